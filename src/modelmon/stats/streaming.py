"""Streaming change detectors: one value in, "did the stream just change?" out.

* :class:`Adwin` (Bifet and Gavalda 2007): an adaptive window of exponential-histogram buckets,
  cut where two sub-windows' means differ by more than a Hoeffding/Bernstein bound;
* :class:`PageHinkley` (Page 1954): a cumulative deviation from the running mean;
* :class:`Ddm` (Gama et al. 2004) and :class:`Eddm` (Baena-Garcia et al. 2006): on error streams
  (1 = the model was wrong), the error rate and the distance between errors;
* :class:`Kswin` (Raab et al. 2020): a two-sample KS test inside a sliding window.

Every detector has ``update(x) -> bool`` (True when a change is detected at ``x``), ``state()``
returning a JSON-serialisable dict, and ``from_state(dict)`` to resume after a restart; the
module-level :func:`detector_from_state` restores any of them. Parameters and defaults follow
river's implementations (``river.drift``), which follow the papers. After a detection a detector
forgets the old concept (ADWIN drops the old sub-window, the others reset), so one change is
reported once and not again on every following value.
"""

from __future__ import annotations

import math
from collections import deque
from functools import lru_cache
from typing import Any, ClassVar, Protocol

import numpy as np

__all__ = [
    "DETECTORS",
    "Adwin",
    "Ddm",
    "Detector",
    "Eddm",
    "Kswin",
    "PageHinkley",
    "detector_from_state",
]


class Detector(Protocol):
    kind: ClassVar[str]

    def update(self, x: float) -> bool: ...

    def state(self) -> dict[str, Any]: ...


class Adwin:
    """ADWIN: keep the longest recent window whose halves do not differ significantly.

    ``delta`` is the confidence of the cut test (smaller: fewer false alarms, later detection);
    the window is checked every ``clock`` values once it holds more than ``grace_period``; both
    sub-windows of a cut hold at least ``min_window_length`` values. Memory is
    ``O(max_buckets * log(width))``.
    """

    kind: ClassVar[str] = "adwin"

    def __init__(
        self,
        delta: float = 0.002,
        *,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        # rows[i] holds buckets of 2**i values, oldest first, as [total, variance] pairs; the
        # variance is the sum of squared deviations from the bucket's mean.
        self.rows: list[list[list[float]]] = [[]]
        self.width = 0
        self.total = 0.0
        self.variance = 0.0
        self.tick = 0

    @property
    def estimation(self) -> float:
        """The mean of the current window."""
        return self.total / self.width if self.width else 0.0

    def update(self, x: float) -> bool:
        x = float(x)
        self.width += 1
        if self.width > 1:
            previous_mean = self.total / (self.width - 1)
            self.variance += (self.width - 1) * (x - previous_mean) ** 2 / self.width
        self.total += x
        self.rows[0].append([x, 0.0])
        self._compress()
        self.tick += 1
        if self.tick % self.clock or self.width <= self.grace_period:
            return False
        return self._cut()

    def _compress(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) <= self.max_buckets:
                return
            (t1, v1), (t2, v2) = row.pop(0), row.pop(0)
            n = float(2**i)
            merged = [t1 + t2, v1 + v2 + n * n * (t1 / n - t2 / n) ** 2 / (2 * n)]
            if i + 1 == len(self.rows):
                self.rows.append([])
            self.rows[i + 1].append(merged)

    def _cut(self) -> bool:
        detected = False
        while (keep := self._newest_cut()) is not None:
            detected = True
            # Drop everything before the newest significant cut, not just until the test stops
            # holding: what stays of the old concept would be "detected" again a few values
            # later, the repeated alarms river users report (peers.md, item 19).
            while self.width > keep:
                self._drop_oldest()
        return detected

    def _newest_cut(self) -> float | None:
        """The size of the recent sub-window at the newest significant cut, if any."""
        n0, u0 = 0.0, 0.0
        n1, u1 = float(self.width), self.total
        variance = self.variance / self.width
        log_term = math.log(2.0 * math.log(self.width) / self.delta)
        keep: float | None = None
        for i in range(len(self.rows) - 1, -1, -1):
            size = float(2**i)
            for total, _ in self.rows[i]:
                n0 += size
                n1 -= size
                u0 += total
                u1 -= total
                if n1 < self.min_window_length:
                    return keep
                if n0 < self.min_window_length:
                    continue
                m = 1.0 / (n0 - self.min_window_length + 1) + 1.0 / (
                    n1 - self.min_window_length + 1
                )
                epsilon = math.sqrt(2.0 * m * variance * log_term) + 2.0 / 3.0 * log_term * m
                if abs(u0 / n0 - u1 / n1) > epsilon:
                    keep = n1
        return keep

    def _drop_oldest(self) -> None:
        i = len(self.rows) - 1
        total, var = self.rows[i].pop(0)
        n = float(2**i)
        self.width -= int(n)
        self.total -= total
        if self.width > 0:
            mean_dropped = total / n
            self.variance -= var + n * self.width * (
                mean_dropped - self.total / self.width
            ) ** 2 / (n + self.width)
            self.variance = max(self.variance, 0.0)
        else:
            self.variance = 0.0
        while len(self.rows) > 1 and not self.rows[-1]:
            self.rows.pop()

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "delta": self.delta,
            "clock": self.clock,
            "max_buckets": self.max_buckets,
            "min_window_length": self.min_window_length,
            "grace_period": self.grace_period,
            "rows": [[list(b) for b in row] for row in self.rows],
            "width": self.width,
            "total": self.total,
            "variance": self.variance,
            "tick": self.tick,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Adwin:
        d = cls(
            state["delta"],
            clock=state["clock"],
            max_buckets=state["max_buckets"],
            min_window_length=state["min_window_length"],
            grace_period=state["grace_period"],
        )
        d.rows = [[[float(t), float(v)] for t, v in row] for row in state["rows"]]
        d.width, d.total = int(state["width"]), float(state["total"])
        d.variance, d.tick = float(state["variance"]), int(state["tick"])
        return d


class PageHinkley:
    """Page-Hinkley: alarm when the cumulative deviation from the running mean, less a tolerance
    ``delta`` per value and faded by ``alpha``, rises ``threshold`` above its minimum.

    ``mode`` is ``"up"`` (increases only), ``"down"`` or ``"both"``. ``threshold`` is in the units
    of ``x``: feed standardised values to use one threshold for every feature.
    """

    kind: ClassVar[str] = "page_hinkley"

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: str = "both",
    ) -> None:
        if mode not in ("up", "down", "both"):
            raise ValueError(f"mode must be 'up', 'down' or 'both', got {mode!r}")
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.sum_up = 0.0
        self.min_up = math.inf
        self.sum_down = 0.0
        self.max_down = -math.inf

    def update(self, x: float) -> bool:
        self.n += 1
        self.mean += (float(x) - self.mean) / self.n
        deviation = float(x) - self.mean
        self.sum_up = self.alpha * self.sum_up + deviation - self.delta
        self.sum_down = self.alpha * self.sum_down + deviation + self.delta
        self.min_up = min(self.min_up, self.sum_up)
        self.max_down = max(self.max_down, self.sum_down)
        if self.n < self.min_instances:
            return False
        up = self.mode != "down" and self.sum_up - self.min_up > self.threshold
        down = self.mode != "up" and self.max_down - self.sum_down > self.threshold
        if up or down:
            self._reset()
            return True
        return False

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            **{k: getattr(self, k) for k in _PH_FIELDS},
            **{k: _float_out(getattr(self, k)) for k in _PH_STATE},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PageHinkley:
        d = cls(**{k: state[k] for k in _PH_FIELDS})
        for k in _PH_STATE:
            setattr(d, k, _float_in(state[k]))
        d.n = int(state["n"])
        return d


_PH_FIELDS = ("min_instances", "delta", "threshold", "alpha", "mode")
_PH_STATE = ("n", "mean", "sum_up", "min_up", "sum_down", "max_down")


class Ddm:
    """DDM on an error stream (1 = wrong, 0 = right): alarm when the error rate ``p`` plus its
    standard error ``s`` exceeds the lowest ``p + s`` seen by ``drift_threshold`` of that
    minimum's ``s``; :attr:`warning` at ``warning_threshold``."""

    kind: ClassVar[str] = "ddm"

    def __init__(
        self, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0
    ) -> None:
        self.warm_start = warm_start
        self.warning_threshold = warning_threshold
        self.drift_threshold = drift_threshold
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.p = 0.0
        self.p_min = math.inf
        self.s_min = math.inf
        self.warning = False

    def update(self, x: float) -> bool:
        self.n += 1
        self.p += (float(x) - self.p) / self.n
        self.warning = False
        if self.n < self.warm_start:
            return False
        s = math.sqrt(self.p * (1.0 - self.p) / self.n)
        if self.p + s <= self.p_min + self.s_min:
            self.p_min, self.s_min = self.p, s
        if self.p + s > self.p_min + self.drift_threshold * self.s_min:
            self._reset()
            return True
        self.warning = self.p + s > self.p_min + self.warning_threshold * self.s_min
        return False

    def state(self) -> dict[str, Any]:
        fields = ("warm_start", "warning_threshold", "drift_threshold", "n", "warning")
        return {
            "kind": self.kind,
            **{k: getattr(self, k) for k in fields},
            **{k: _float_out(getattr(self, k)) for k in ("p", "p_min", "s_min")},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Ddm:
        d = cls(state["warm_start"], state["warning_threshold"], state["drift_threshold"])
        d.n, d.warning = int(state["n"]), bool(state["warning"])
        d.p, d.p_min, d.s_min = (_float_in(state[k]) for k in ("p", "p_min", "s_min"))
        return d


class Eddm:
    """EDDM on an error stream: the mean distance between errors plus two standard deviations,
    relative to its maximum; drift below ``beta``, :attr:`warning` below ``alpha``. Better than
    DDM for slow, gradual changes. Needs ``warm_start`` errors before it judges."""

    kind: ClassVar[str] = "eddm"

    def __init__(self, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        self.warm_start = warm_start
        self.alpha = alpha
        self.beta = beta
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.errors = 0
        self.last_error = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.m2s_max = 0.0
        self.warning = False

    def update(self, x: float) -> bool:
        self.n += 1
        self.warning = False
        if not x:
            return False
        self.errors += 1
        distance = float(self.n - self.last_error)
        self.last_error = self.n
        delta = distance - self.mean
        self.mean += delta / self.errors
        self.m2 += delta * (distance - self.mean)
        if self.errors < self.warm_start:
            return False
        m2s = self.mean + 2.0 * math.sqrt(self.m2 / self.errors)
        if m2s > self.m2s_max:
            self.m2s_max = m2s
            return False
        ratio = m2s / self.m2s_max
        if ratio < self.beta:
            self._reset()
            return True
        self.warning = ratio < self.alpha
        return False

    def state(self) -> dict[str, Any]:
        fields = (
            "warm_start",
            "alpha",
            "beta",
            "n",
            "errors",
            "last_error",
            "mean",
            "m2",
            "m2s_max",
            "warning",
        )
        return {"kind": self.kind, **{k: getattr(self, k) for k in fields}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Eddm:
        d = cls(state["warm_start"], state["alpha"], state["beta"])
        d.n, d.errors, d.last_error = int(state["n"]), int(state["errors"]), state["last_error"]
        d.mean, d.m2, d.m2s_max = float(state["mean"]), float(state["m2"]), state["m2s_max"]
        d.warning = bool(state["warning"])
        return d


@lru_cache(maxsize=16)
def _ks_critical(stat_size: int, alpha: float) -> float:
    """The smallest KS distance ``k / stat_size`` whose exact two-sample p-value (equal sizes)
    is at most ``alpha``; computed once, so an update never calls scipy."""
    from scipy import stats

    base = np.arange(stat_size, dtype=np.float64)
    critical = math.inf
    # Downwards from the largest distance: scipy's exact method fails for p-values near 1, which
    # lie below the critical value and are never needed.
    for k in range(stat_size, 0, -1):
        # Shifting a sample of distinct values by k ranks gives a KS distance of exactly k / n.
        if stats.ks_2samp(base, base + k, method="exact").pvalue > alpha:
            break
        critical = k / stat_size
    return critical


class Kswin:
    """KSWIN: in a sliding window of ``window_size`` values, compare the newest ``stat_size``
    with as many drawn at random from the older part by a two-sample KS test; alarm when its exact
    p-value is at most ``alpha`` and the distance exceeds 0.1. After an alarm only the newest
    ``stat_size`` values stay."""

    kind: ClassVar[str] = "kswin"

    def __init__(
        self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30, seed: int = 0
    ) -> None:
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if stat_size >= window_size - stat_size + 1 or stat_size < 1:
            raise ValueError("stat_size must be positive and at most half of window_size")
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.window: deque[float] = deque(maxlen=window_size)
        self.critical = _ks_critical(stat_size, alpha)

    def update(self, x: float) -> bool:
        self.window.append(float(x))
        if len(self.window) < self.window_size:
            return False
        values = np.fromiter(self.window, dtype=np.float64, count=self.window_size)
        older = values[: self.window_size - self.stat_size]
        recent = values[self.window_size - self.stat_size :]
        drawn = older[self.rng.choice(older.size, self.stat_size, replace=False)]
        distance = _ks_distance(drawn, recent)
        # The distance is a multiple of 1/stat_size up to rounding: compare with a tolerance.
        if distance >= self.critical - 1e-9 and distance > 0.1:
            self.window = deque(recent.tolist(), maxlen=self.window_size)
            return True
        return False

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "alpha": self.alpha,
            "window_size": self.window_size,
            "stat_size": self.stat_size,
            "seed": self.seed,
            "rng": self.rng.bit_generator.state,
            "window": list(self.window),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Kswin:
        d = cls(state["alpha"], state["window_size"], state["stat_size"], state["seed"])
        d.rng.bit_generator.state = state["rng"]
        d.window.extend(float(v) for v in state["window"])
        return d


def _ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.abs(fa - fb).max())


def _float_out(value: float) -> float | str:
    """JSON has no infinities; keep them as text."""
    return value if math.isfinite(value) else repr(value)


def _float_in(value: float | str) -> float:
    return float(value)


DETECTORS: dict[str, Any] = {cls.kind: cls for cls in (Adwin, PageHinkley, Ddm, Eddm, Kswin)}


def detector_from_state(state: dict[str, Any]) -> Detector:
    """Restore any detector from its :meth:`state`."""
    kind = state.get("kind")
    if kind not in DETECTORS:
        raise ValueError(f"unknown detector kind {kind!r}; expected one of {sorted(DETECTORS)}")
    restored: Detector = DETECTORS[kind].from_state(state)
    return restored
