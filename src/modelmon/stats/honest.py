"""Statistically honest verdicts: sample-size-aware thresholds, FDR control, guards, persistence.

Users of every peer mute drift alerts (peers.md section 3, items 14-19) because a p-value test
fires on any shift once a window is large, fires on noise when it is tiny, and fires on one of many
features by chance. The remedies here are pure functions over numbers:

* :func:`critical_distance` / :func:`drift_verdict`: a shift counts only when it is both larger than
  sampling noise at this window size (a critical value that shrinks as ``1/sqrt(n)``) and larger
  than an effect size that matters (a fixed floor that does not shrink);
* :func:`benjamini_hochberg`: the false-discovery rate across the features and segments of one
  execution;
* :func:`minimum_rows_reason`: "not evaluated" with the reason, instead of a meaningless number;
* :class:`Persistence`: an alarm only after ``k`` consecutive windows say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Persistence",
    "Verdict",
    "benjamini_hochberg",
    "bh_reject",
    "critical_distance",
    "drift_verdict",
    "minimum_rows_reason",
    "z_for_alpha",
]


def z_for_alpha(alpha: float) -> float:
    """One-sided standard-normal quantile ``z`` with ``P(Z > z) = alpha``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    from statistics import NormalDist  # stdlib: no scipy import for one quantile

    return NormalDist().inv_cdf(1.0 - alpha)


def critical_distance(n: float, m: float, alpha: float = 0.003) -> float:
    """The L-infinity (KS) distance that sampling noise alone exceeds with probability ``alpha``.

    The asymptotic two-sample KS bound ``c(alpha) * sqrt((n + m) / (n m))`` with
    ``c = sqrt(-ln(alpha / 2) / 2)`` (as Deequ and SageMaker's Robust method): large for a tiny
    window, vanishing for a huge one.
    """
    if n <= 0 or m <= 0:
        return math.inf
    c = math.sqrt(-math.log(alpha / 2.0) / 2.0)
    return c * math.sqrt((n + m) / (n * m))


@dataclass(frozen=True)
class Verdict:
    """A drift decision with the two numbers it was compared with, and why."""

    drift: bool
    statistic: float
    noise_floor: float
    effect_floor: float
    rule: str


def drift_verdict(
    statistic: float, n: float, m: float, *, effect_floor: float = 0.1, alpha: float = 0.003
) -> Verdict:
    """Drift when an L-infinity distance exceeds ``effect_floor + critical_distance(n, m)``.

    The sum keeps both promises: no alarm from noise on a tiny window (the critical value is
    large) and none from a tiny, irrelevant shift on a huge one (the effect floor stays).
    """
    noise = critical_distance(n, m, alpha)
    bar = effect_floor + noise
    drift = statistic > bar
    rule = (
        f"distance {statistic:.6g} {'>' if drift else '<='} effect floor {effect_floor:g} "
        f"+ noise {noise:.4g} at n={n:g}, m={m:g}"
    )
    return Verdict(drift, statistic, noise, effect_floor, rule)


def benjamini_hochberg(pvalues: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (``scipy.stats.false_discovery_control``).

    NaN p-values (tests that were not run) stay NaN and do not count towards the number of
    tests; reject hypothesis ``i`` at FDR level ``q`` when ``adjusted[i] <= q``.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"pvalues must be one-dimensional, got shape {p.shape}")
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(p.shape, np.nan)
    tested = p[finite]
    k = tested.size
    if k == 0:
        return out
    order = np.argsort(tested, kind="stable")
    scaled = tested[order] * k / np.arange(1, k + 1)
    # The step-up: each adjusted value is the smallest scaled value at or after its rank.
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    result = np.empty(k)
    result[order] = adjusted
    out[finite] = result
    return out


def bh_reject(pvalues: npt.ArrayLike, q: float) -> npt.NDArray[np.bool_]:
    """Which hypotheses Benjamini-Hochberg rejects at false-discovery rate ``q``."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    adjusted = benjamini_hochberg(pvalues)
    return np.asarray(~np.isnan(adjusted) & (adjusted <= q), dtype=np.bool_)


def minimum_rows_reason(method: str, needed: int, **sizes: int) -> str | None:
    """Why ``method`` cannot be evaluated on samples of these sizes, or None if it can.

    >>> minimum_rows_reason("MMD", 20, baseline=500, current=8)
    'MMD needs at least 20 rows in the current data, found 8'
    """
    for side, size in sizes.items():
        if size < needed:
            return f"{method} needs at least {needed} rows in the {side} data, found {size}"
    return None


class Persistence:
    """Alarm only after ``k`` consecutive positive windows; stays in alarm while they continue.

    ``update(flag)`` returns whether the alarm is on after this window. ``k=1`` passes every flag
    through. The state is two integers, so a restart can resume from :meth:`state`.
    """

    def __init__(self, k: int = 1) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        self.k = k
        self.run = 0

    def update(self, flag: bool) -> bool:
        self.run = self.run + 1 if flag else 0
        return self.run >= self.k

    @property
    def alarm(self) -> bool:
        return self.run >= self.k

    def state(self) -> dict[str, Any]:
        return {"k": self.k, "run": self.run}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Persistence:
        restored = cls(int(state["k"]))
        restored.run = int(state["run"])
        return restored

    @staticmethod
    def over(flags: Sequence[bool], k: int) -> list[bool]:
        """The alarm after each window of a history of flags."""
        p = Persistence(k)
        return [p.update(f) for f in flags]
