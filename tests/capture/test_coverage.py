"""Label coverage and delay (pure, then on disk), and the windows that late labels reopen."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.capture import (
    CaptureWriter,
    InferenceEvent,
    import_labels,
    label_coverage,
    windows_needing_reevaluation,
)
from modelmon.capture.coverage import coverage_of

EventFactory = Callable[..., InferenceEvent]
T0 = datetime(2024, 5, 1, 13, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)


@given(
    st.lists(
        st.tuples(st.integers(0, 10**12), st.integers(0, 10**10), st.booleans()),
        min_size=1,
        max_size=50,
    )
)
def test_coverage_of_matches_a_plain_computation(rows: list[tuple[int, int, bool]]) -> None:
    inference = np.array([t for t, _, _ in rows], dtype=np.int64)
    arrival = inference + np.array([d for _, d, _ in rows], dtype=np.int64)
    labeled = np.array([flag for _, _, flag in rows])
    result = coverage_of(inference, arrival, labeled)
    delays = [d / 1e6 for _, d, flag in rows if flag]
    assert result.predictions == len(rows)
    assert result.labeled == len(delays)
    assert result.coverage == pytest.approx(len(delays) / len(rows))
    if delays:
        assert result.delay_p50_s == pytest.approx(float(np.median(delays)))
        assert result.delay_p90_s == pytest.approx(float(np.percentile(delays, 90)))
        assert result.delay_max_s == pytest.approx(max(delays))
    else:
        assert math.isnan(result.delay_p50_s)


def test_coverage_of_nothing_is_nan() -> None:
    empty = np.array([], dtype=np.int64)
    result = coverage_of(empty, empty, np.array([], dtype=bool))
    assert (result.predictions, result.labeled) == (0, 0)
    assert math.isnan(result.coverage)


@pytest.fixture
def data_dir(tmp_path: Path, make_event: EventFactory) -> Path:
    """v1: a at 13:05, b at 13:35, c at 14:05; v2: a at 13:05 (a shadow of the same request)."""
    with CaptureWriter(tmp_path, flush_interval=3600.0) as writer:
        writer.submit(make_event("a", version="v1", time=T0))
        writer.submit(make_event("b", version="v1", time=T0 + timedelta(minutes=30)))
        writer.submit(make_event("c", version="v1", time=T0 + HOUR))
        writer.submit(make_event("a", version="v2", time=T0))
    return tmp_path


def labels(data_dir: Path, arrival: datetime, *ids: str) -> None:
    source = data_dir / "labels.csv"
    source.write_text("inference_id,label\n" + "".join(f"{i},1\n" for i in ids))
    import_labels(data_dir, "churn", source, arrival_time=arrival)


def test_label_coverage_and_delay_on_disk(data_dir: Path) -> None:
    labels(data_dir, T0 + timedelta(minutes=40), "b")
    labels(data_dir, T0 + 2 * HOUR, "a")
    result = label_coverage(data_dir, "churn", version="v1")
    assert (result.predictions, result.labeled) == (3, 2)
    assert result.coverage == pytest.approx(2 / 3)
    # Delays of 10 minutes (b) and 2 hours (a).
    assert result.delay_p50_s == pytest.approx((600 + 7200) / 2)
    assert result.delay_max_s == pytest.approx(7200.0)
    before = label_coverage(data_dir, "churn", version="v1", as_of=T0 + HOUR)
    assert before.labeled == 1


def test_late_labels_reopen_the_windows_they_belong_to(data_dir: Path) -> None:
    hour13 = datetime(2024, 5, 1, 13, tzinfo=UTC)
    # b's label arrives within its own hour: that window has not ended, nothing to redo.
    labels(data_dir, T0 + timedelta(minutes=40), "b")
    assert windows_needing_reevaluation(data_dir, "churn", since=T0) == set()
    # a's label arrives the next day: hour 13 of both versions that answered a must be redone.
    next_day = T0 + timedelta(days=1)
    labels(data_dir, next_day, "a", "c")
    assert windows_needing_reevaluation(data_dir, "churn", since=next_day) == {
        ("v1", hour13),
        ("v2", hour13),
        ("v1", hour13 + HOUR),
    }
    # Daily windows: the label of the next day reopens the day.
    day = datetime(2024, 5, 1, tzinfo=UTC)
    daily = windows_needing_reevaluation(
        data_dir, "churn", since=next_day, window=timedelta(days=1)
    )
    assert daily == {("v1", day), ("v2", day)}
    assert windows_needing_reevaluation(data_dir, "churn", since=next_day + HOUR) == set()
