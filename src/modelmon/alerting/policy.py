"""M of N: from the verdicts of the last N datapoints to OK, ALARM or INSUFFICIENT_DATA.

Pure: the same verdicts and current state always give the same answer. Missing datapoints are
first replaced according to the rule's policy (as CloudWatch's treatMissingData does), then the
decision needs at least ``required`` present datapoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from modelmon.alerting.conditions import Verdict
from modelmon.alerting.rules import EvaluationSpec

__all__ = ["AlertState", "decide"]


class AlertState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


def decide(verdicts: Sequence[Verdict], policy: EvaluationSpec, current: AlertState) -> AlertState:
    """The state after the last ``policy.n`` verdicts (oldest first; fewer when the schedule is
    young, which counts as missing datapoints)."""
    window = list(verdicts[-policy.n :])
    window = [Verdict.MISSING] * (policy.n - len(window)) + window
    if policy.missing == "ok":
        window = [Verdict.OK if v is Verdict.MISSING else v for v in window]
    elif policy.missing == "alarm":
        window = [Verdict.BREACH if v is Verdict.MISSING else v for v in window]
    breaching = sum(v is Verdict.BREACH for v in window)
    present = sum(v in (Verdict.BREACH, Verdict.OK) for v in window)
    # The minimum sample guard comes first: too few datapoints give no verdict either way.
    if present < policy.required:
        return current if policy.missing == "keep" else AlertState.INSUFFICIENT_DATA
    return AlertState.ALARM if breaching >= policy.m else AlertState.OK
