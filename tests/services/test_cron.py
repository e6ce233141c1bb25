from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmon.errors import ConfigError
from modelmon.services.cron import Now, Recurring, due_times, parse
from modelmon.services.windows import explicit_window, scheduled_window

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)


def test_the_four_sagemaker_forms_parse() -> None:
    assert parse("cron(0 * ? * * *)") == Recurring("cron(0 * ? * * *)", tuple(range(24)), H)
    assert parse("cron(0 5 ? * * *)") == Recurring("cron(0 5 ? * * *)", (5,), 24 * H)
    every = parse("cron(0 17/12 ? * * *)")
    assert every == Recurring("cron(0 17/12 ? * * *)", (17,), 12 * H)
    assert parse("cron(0 0/6 ? * * *)") == Recurring("cron(0 0/6 ? * * *)", (0, 6, 12, 18), 6 * H)
    assert parse(" NOW ") == Now()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "now",
        "cron(0 24 ? * * *)",
        "cron(0 5/0 ? * * *)",
        "cron(0 5/25 ? * * *)",
        "cron(30 * ? * * *)",
        "cron(0 * * * * *)",
        "cron(0 1,2 ? * * *)",
        "cron(0 */2 ? * * *)",
        "rate(1 hour)",
        "cron(0 * ? * * *",
    ],
)
def test_other_expressions_are_refused_naming_field_and_forms(text: str) -> None:
    with pytest.raises(ConfigError, match=r"'schedule' parameter .*cron\(0 H/N \? \* \* \*\)"):
        parse(text, field="schedule")


def test_due_times_are_half_open_and_utc() -> None:
    hourly = parse("cron(0 * ? * * *)")
    assert isinstance(hourly, Recurring)
    assert due_times(hourly, T0, T0 + 3 * H) == [T0 + H, T0 + 2 * H, T0 + 3 * H]
    assert due_times(hourly, T0 + timedelta(minutes=1), T0 + H - timedelta(seconds=1)) == []
    plus_two = timezone(timedelta(hours=2))
    times = due_times(hourly, T0.astimezone(plus_two), (T0 + H).astimezone(plus_two))
    assert times == [T0 + H]
    assert times[0].tzinfo is UTC


def test_daily_and_every_n_hours_cross_days() -> None:
    daily = parse("cron(0 5 ? * * *)")
    every = parse("cron(0 17/12 ? * * *)")
    assert isinstance(daily, Recurring)
    assert isinstance(every, Recurring)
    days = timedelta(days=3)
    assert due_times(daily, T0, T0 + days) == [T0 + 5 * H + d * 24 * H for d in range(3)]
    assert due_times(every, T0, T0 + days) == [T0 + 17 * H + d * 24 * H for d in range(3)]


def test_naive_times_are_refused() -> None:
    hourly = parse("cron(0 * ? * * *)")
    assert isinstance(hourly, Recurring)
    with pytest.raises(ConfigError, match="'after' parameter must be a timezone-aware"):
        due_times(hourly, datetime(2026, 1, 1), T0)


_expressions = st.one_of(
    st.just("cron(0 * ? * * *)"),
    st.integers(0, 23).map(lambda h: f"cron(0 {h} ? * * *)"),
    st.tuples(st.integers(0, 23), st.integers(1, 24)).map(
        lambda hn: f"cron(0 {hn[0]}/{hn[1]} ? * * *)"
    ),
)
_times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@given(_expressions, _times, st.integers(0, 24 * 5 * 60))
def test_due_times_match_a_minute_by_minute_scan(text: str, after: datetime, minutes: int) -> None:
    expression = parse(text)
    assert isinstance(expression, Recurring)
    until = after + timedelta(minutes=minutes)
    # The reference: every whole hour in (after, until] whose hour of day the expression names.
    first = after.replace(minute=0, second=0, microsecond=0) + H
    expected = []
    t = first
    while t <= until:
        if t.hour in expression.hours:
            expected.append(t)
        t += H
    assert due_times(expression, after, until) == expected


@given(_expressions, _times)
def test_default_window_is_the_previous_period(text: str, nominal: datetime) -> None:
    expression = parse(text)
    assert isinstance(expression, Recurring)
    window = scheduled_window(expression, nominal)
    assert window.end == nominal
    assert window.end - window.start == expression.period


def test_sagemaker_daily_example_window() -> None:
    daily = parse("cron(0 5 ? * * *)")
    assert isinstance(daily, Recurring)
    window = scheduled_window(daily, datetime(2020, 2, 20, 5, tzinfo=UTC))
    assert window.start == datetime(2020, 2, 19, 5, tzinfo=UTC)


def test_offsets_override_each_edge() -> None:
    hourly = parse("cron(0 * ? * * *)")
    assert isinstance(hourly, Recurring)
    window = scheduled_window(hourly, T0, start_offset=-3 * H, end_offset=-H)
    assert (window.start, window.end) == (T0 - 3 * H, T0 - H)
    assert scheduled_window(hourly, T0, start_offset=-6 * H).start == T0 - 6 * H
    with pytest.raises(ConfigError, match="'end_offset' parameter of a schedule must be zero"):
        scheduled_window(hourly, T0, end_offset=H)
    with pytest.raises(ConfigError, match="must end after it starts"):
        scheduled_window(hourly, T0, start_offset=-H, end_offset=-2 * H)


def test_explicit_window_is_at_most_a_day() -> None:
    assert explicit_window(T0, T0 + 24 * H).end == T0 + 24 * H
    with pytest.raises(ConfigError, match="at most 24 hours"):
        explicit_window(T0, T0 + 25 * H)
    with pytest.raises(ConfigError, match="must end after it starts"):
        explicit_window(T0, T0)
    with pytest.raises(ConfigError, match="'window_start' parameter must be a timezone-aware"):
        explicit_window(datetime(2026, 1, 1), T0)
