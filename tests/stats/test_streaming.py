"""Streaming detectors on known change points, hand-worked cases and checkpoint round trips."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modelmon.stats.streaming import (
    DETECTORS,
    Adwin,
    Ddm,
    Detector,
    Eddm,
    Kswin,
    PageHinkley,
    _ks_critical,
    detector_from_state,
)


def _detections(detector: Detector, values: np.ndarray) -> list[int]:
    return [i for i, v in enumerate(values.tolist()) if detector.update(v)]


def _shift(seed: int, before: int, after: int, mean: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values: np.ndarray = np.r_[rng.normal(0.0, 1.0, before), rng.normal(mean, 1.0, after)]
    return values


# -- ADWIN ----------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=1, max_size=400), st.integers(2, 6))
def test_adwin_buckets_summarise_exactly_the_recent_window(values: list[float], m: int) -> None:
    """Width, total and variance are those of the last ``width`` values, whatever was cut."""
    detector = Adwin(clock=8, max_buckets=m)
    seen: list[float] = []
    for x in values:
        detector.update(x)
        seen.append(x)
        window = np.array(seen[len(seen) - detector.width :])
        sizes = sum(2**i * len(row) for i, row in enumerate(detector.rows))
        assert sizes == detector.width == len(window)
        assert all(len(row) <= m for row in detector.rows)
        assert detector.total == pytest.approx(window.sum(), abs=1e-9)
        spread = ((window - window.mean()) ** 2).sum()
        assert detector.variance == pytest.approx(spread, abs=1e-6 * max(1.0, len(window)))


def test_adwin_hand_worked_step() -> None:
    """64 zeros then ones, checked every 32 values: no cut while the window is constant (the
    bound is positive, the difference 0); at the first check with ones (value 96) the zeros are
    cut, and only ones are left."""
    detector = Adwin()
    stream = np.r_[np.zeros(64), np.ones(64)]
    assert _detections(detector, stream) == [95]
    assert detector.estimation == 1.0
    assert detector.total == detector.width <= 64


def test_adwin_detects_an_abrupt_shift_once_and_nothing_else() -> None:
    for seed in range(5):
        found = _detections(Adwin(), _shift(seed, 3000, 3000, 1.0))
        assert len(found) == 1, found  # one change, one alarm (river's repeated alarms: no)
        assert 3000 <= found[0] < 3000 + 200


def test_adwin_is_quiet_on_a_stationary_stream() -> None:
    rng = np.random.default_rng(11)
    assert _detections(Adwin(), rng.normal(size=30_000)) == []
    assert _detections(Adwin(), (rng.random(30_000) < 0.2).astype(float)) == []


def test_adwin_follows_a_recurring_change() -> None:
    rng = np.random.default_rng(3)
    stream = np.r_[rng.normal(0, 1, 2000), rng.normal(2, 1, 2000), rng.normal(0, 1, 2000)]
    found = _detections(Adwin(), stream)
    assert len(found) == 2
    assert 2000 <= found[0] < 2100
    assert 4000 <= found[1] < 4100


# -- Page-Hinkley --------------------------------------------------------------------------------


def test_page_hinkley_hand_worked() -> None:
    """0, 0, 0, 10: running means 0, 0, 0, 2.5; with no tolerance or fading the upward sum is
    0, 0, 0, 7.5 and its minimum 0, so a threshold of 5 fires at the fourth value, 8 does not."""
    values = np.array([0.0, 0.0, 0.0, 10.0])
    fires = PageHinkley(min_instances=1, delta=0.0, threshold=5.0, alpha=1.0, mode="up")
    assert _detections(fires, values) == [3]
    quiet = PageHinkley(min_instances=1, delta=0.0, threshold=8.0, alpha=1.0, mode="up")
    assert _detections(quiet, values) == []
    # Downward: 0, 0, 0, -10 mirrors it.
    down = PageHinkley(min_instances=1, delta=0.0, threshold=5.0, alpha=1.0, mode="down")
    assert _detections(down, -values) == [3]


def test_page_hinkley_detects_a_known_change_point() -> None:
    stream = _shift(5, 2000, 2000, 1.0)
    found = _detections(PageHinkley(delta=0.1, threshold=25.0), stream)
    assert found
    assert 2000 <= found[0] < 2200
    assert all(i >= 2000 for i in found)


# -- DDM / EDDM -----------------------------------------------------------------------------------


def _errors(seed: int, before: float, after: float, n: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flags: np.ndarray = np.r_[rng.random(n) < before, rng.random(n) < after].astype(float)
    return flags


def test_ddm_detects_a_rise_in_the_error_rate() -> None:
    for seed in range(3):
        found = _detections(Ddm(), _errors(seed, 0.1, 0.3))
        assert any(4000 <= i < 4400 for i in found), found


def test_ddm_hand_worked() -> None:
    """Errors 1 0 0 0 0 then 1s, judged from the second value. p + s falls to its minimum at the
    fifth value (p = .2, s = sqrt(.2 * .8 / 5) = .1789); the bars are .2 + 2s = .5578 (warning)
    and .2 + 3s = .7367 (drift). p + s is then .5258, .6156, .6768, .7212, .7549: warnings at the
    7th to 9th values, drift at the 10th."""
    detector = Ddm(warm_start=2)
    seen = [(detector.update(x), detector.warning) for x in [1, 0, 0, 0, 0, 1, 1, 1, 1, 1]]
    assert [i for i, (_, w) in enumerate(seen) if w] == [6, 7, 8]
    assert [i for i, (d, _) in enumerate(seen) if d] == [9]
    assert detector.n == 0  # reset after the drift


def test_eddm_detects_errors_coming_closer() -> None:
    for seed in range(3):
        found = _detections(Eddm(), _errors(seed, 0.1, 0.4, n=6000))
        assert any(6000 <= i < 6500 for i in found), found


# -- KSWIN ----------------------------------------------------------------------------------------


def test_kswin_critical_value_is_scipys_exact_test() -> None:
    critical = _ks_critical(30, 0.005)
    base = np.arange(30.0)
    k = round(critical * 30)
    assert stats.ks_2samp(base, base + k, method="exact").pvalue <= 0.005
    assert stats.ks_2samp(base, base + k - 1, method="exact").pvalue > 0.005


def test_kswin_decision_agrees_with_scipy() -> None:
    rng = np.random.default_rng(4)
    detector = Kswin(seed=9)
    twin = np.random.default_rng(9)  # the same draws as the detector's
    stream = np.r_[rng.normal(0, 1, 300), rng.normal(1.5, 1, 300)]
    window: list[float] = []
    for i, x in enumerate(stream.tolist()):
        fired = detector.update(x)
        window = [*window, x][-100:]
        if len(window) < 100:
            assert not fired
            continue
        older, recent = np.array(window[:70]), np.array(window[70:])
        drawn = older[twin.choice(70, 30, replace=False)]
        test = stats.ks_2samp(drawn, recent, method="exact")
        assert fired == (test.pvalue <= 0.005 and test.statistic > 0.1), i
        if fired:
            window = window[70:]


# -- checkpoints ----------------------------------------------------------------------------------

FACTORIES: dict[str, Callable[[], Detector]] = {
    "adwin": Adwin,
    "page_hinkley": lambda: PageHinkley(delta=0.1, threshold=20.0),
    "ddm": Ddm,
    "eddm": Eddm,
    "kswin": lambda: Kswin(seed=2),
}


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_a_restored_detector_continues_exactly(kind: str) -> None:
    if kind in ("ddm", "eddm"):
        stream = _errors(6, 0.1, 0.35, n=1500)
    else:
        stream = _shift(6, 1500, 1500, 1.0)
    whole = FACTORIES[kind]()
    expected = _detections(whole, stream)
    assert expected
    first = FACTORIES[kind]()
    cut = 1600
    head = _detections(first, stream[:cut])
    saved = json.loads(json.dumps(first.state()))  # through JSON, as on disk
    resumed = detector_from_state(saved)
    tail = [cut + i for i in _detections(resumed, stream[cut:])]
    assert head + tail == expected
    assert type(resumed).kind == kind
    assert kind in DETECTORS


def test_detector_from_state_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown detector kind 'cusum'"):
        detector_from_state({"kind": "cusum"})


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="delta"):
        Adwin(delta=0.0)
    with pytest.raises(ValueError, match="mode"):
        PageHinkley(mode="sideways")
    with pytest.raises(ValueError, match="stat_size"):
        Kswin(window_size=40, stat_size=30)
