"""Datapoint verdicts: does the point at each evaluation slot breach the rule's condition?

Pure functions over one series' points (oldest first): no store, no clock. A slot with no point
(or a NaN one) is MISSING; a point that cannot be judged yet (a sigma or seasonal condition
without enough history) is UNKNOWN, which never counts as breaching or as missing data.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum

from modelmon.alerting.rules import ConditionSpec

__all__ = ["Verdict", "deviation_breaches", "slot_verdicts"]


class Verdict(Enum):
    BREACH = "breach"
    OK = "ok"
    MISSING = "missing"
    UNKNOWN = "unknown"


def deviation_breaches(value: float, reference: Sequence[float], k: float, direction: str) -> bool:
    """Whether ``value`` is more than ``k`` sample standard deviations from the reference mean.

    A constant reference has no spread: then any departure beyond rounding breaches.
    """
    mean = math.fsum(reference) / len(reference)
    variance = math.fsum((x - mean) ** 2 for x in reference) / (len(reference) - 1)
    spread = max(math.sqrt(variance), 1e-12 * max(1.0, abs(mean)))
    deviation = value - mean
    if direction == "above":
        return deviation > k * spread
    if direction == "below":
        return -deviation > k * spread
    return abs(deviation) > k * spread


def _threshold(condition: ConditionSpec, value: float) -> bool:
    if condition.type == "above":
        assert condition.threshold is not None
        return value > condition.threshold
    if condition.type == "below":
        assert condition.threshold is not None
        return value < condition.threshold
    assert condition.low is not None
    assert condition.high is not None
    return value < condition.low or value > condition.high


def _present(values: Sequence[float], indexes: Sequence[int]) -> list[float]:
    return [values[i] for i in indexes if not math.isnan(values[i])]


def _seasonal_reference(
    condition: ConditionSpec, times: Sequence[datetime], values: Sequence[float], at: datetime
) -> list[float]:
    period = timedelta(hours=condition.period_hours)
    tolerance = timedelta(minutes=condition.tolerance_minutes)
    found = []
    for season in range(1, condition.seasons + 1):
        target = at - season * period
        lo = bisect.bisect_left(times, target - tolerance)
        hi = bisect.bisect_right(times, target + tolerance)
        candidates = [i for i in range(lo, hi) if not math.isnan(values[i])]
        if candidates:
            nearest = min(candidates, key=lambda i: abs(times[i] - target))
            found.append(values[nearest])
    return found


def slot_verdicts(
    condition: ConditionSpec,
    times: Sequence[datetime],
    values: Sequence[float],
    slots: Sequence[datetime],
) -> list[Verdict]:
    """One verdict per slot. ``times`` are sorted; a slot's point is the one stamped at it."""
    verdicts = []
    for slot in slots:
        index = bisect.bisect_left(times, slot)
        if index >= len(times) or times[index] != slot or math.isnan(values[index]):
            verdicts.append(Verdict.MISSING)
            continue
        value = values[index]
        if condition.type in ("above", "below", "outside"):
            breach = _threshold(condition, value)
        else:
            if condition.type == "sigma":
                reference = _present(values, range(max(0, index - condition.history), index))
                needed = condition.min_history
            else:
                reference = _seasonal_reference(condition, times, values, slot)
                needed = min(condition.min_history, condition.seasons)
            if len(reference) < max(2, needed):
                verdicts.append(Verdict.UNKNOWN)
                continue
            breach = deviation_breaches(value, reference, condition.k, condition.direction)
        verdicts.append(Verdict.BREACH if breach else Verdict.OK)
    return verdicts
