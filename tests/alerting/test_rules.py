"""Rule validation, datapoint verdicts and the M-of-N decision: pure functions, no store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from modelmon.alerting import (
    AlertState,
    ConditionSpec,
    EvaluationSpec,
    RuleSpec,
    Verdict,
    decide,
    slot_verdicts,
)
from modelmon.alerting.conditions import deviation_breaches
from modelmon.alerting.templates import render_template

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
B, OK, M, U = Verdict.BREACH, Verdict.OK, Verdict.MISSING, Verdict.UNKNOWN


def _rule(**overrides: Any) -> RuleSpec:
    body = {"name": "r", "metric": "drift", "condition": {"type": "above", "threshold": 0.1}}
    return RuleSpec.model_validate({**body, **overrides})


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"matchers": {"feature": "age"}}, "matchers", "must start with =, !=, =~ or !~"),
        ({"matchers": {"feature": "=~(unclosed"}}, "matchers", "regular expression"),
        ({"matchers": {"bad label": "=x"}}, "matchers", "not a label name"),
        ({"evaluation": {"m": 4, "n": 3}}, "evaluation", "can never be met"),
        ({"evaluation": {"m": 1, "n": 0}}, "evaluation", "evaluation.n must be between"),
        ({"evaluation": {"m": 1, "n": 3, "min_samples": 5}}, "evaluation", "min_samples"),
        ({"description": "$metric is ${value"}, "description", "not a valid template"),
        ({"description": "$metrc is high"}, "description", r"unknown name\(s\) \$metrc"),
        ({"condition": {"type": "above"}}, "condition", "threshold is required"),
        ({"condition": {"type": "outside", "low": 2, "high": 1}}, "condition", "low must be"),
        ({"condition": {"type": "sigma", "k": 0}}, "condition.k", "greater than 0"),
        ({"metric": "drift of age"}, "metric", "must be a metric name"),
        ({"runbook_url": "wiki/page"}, "runbook_url", "http"),
        ({"severity": "page-everyone"}, "severity", "'info', 'warning' or 'critical'"),
    ],
)
def test_invalid_rules_name_the_field(overrides: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says) as caught:
        _rule(**overrides)
    location = ".".join(str(part) for part in caught.value.errors()[0]["loc"])
    assert location == field


def test_a_valid_rule_keeps_its_document() -> None:
    rule = _rule(
        metric="feature_baseline_drift_*",
        matchers={"model": "=churn", "feature": "=~age|income", "segment": "!=test"},
    )
    assert rule.matches_metric("feature_baseline_drift_age")
    assert not rule.matches_metric("feature_non_null_age")
    assert rule.label_matchers["feature"].matches("income")
    assert not rule.label_matchers["segment"].matches("test")
    assert RuleSpec.model_validate(rule.document()) == rule
    assert rule.evaluation.required == 1


def test_templates_render_known_names_and_leave_missing_labels() -> None:
    text = render_template("$feature at $value on $segment, $$5", {"feature": "age", "value": 1})
    assert text == "age at 1 on $segment, $5"


def test_threshold_conditions_and_missing_slots() -> None:
    times = [T0, T0 + H, T0 + 3 * H]
    values = [0.05, 0.2, float("nan")]
    slots = [T0, T0 + H, T0 + 2 * H, T0 + 3 * H]
    above = ConditionSpec(type="above", threshold=0.1)
    assert slot_verdicts(above, times, values, slots) == [OK, B, M, M]
    below = ConditionSpec(type="below", threshold=0.1)
    assert slot_verdicts(below, times, values, slots[:2]) == [B, OK]
    outside = ConditionSpec(type="outside", low=0.0, high=0.1)
    assert slot_verdicts(outside, times, values, slots[:2]) == [OK, B]


@given(
    st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=30),
    st.floats(-1e4, 1e4),
    st.floats(0.5, 5),
)
def test_sigma_deviation_matches_numpy(history: list[float], value: float, k: float) -> None:
    reference = np.asarray(history)
    std = reference.std(ddof=1)
    gap = abs(value - reference.mean())
    # Away from the boundary (and from a constant history) the verdict is numpy's.
    if std > 1e-6 and abs(gap - k * std) > 1e-6 * max(1.0, gap):
        assert deviation_breaches(value, history, k, "both") == (gap > k * std)


def test_sigma_needs_history_and_flags_an_outlier() -> None:
    rng = np.random.default_rng(3)
    values = [*rng.normal(0.05, 0.01, 30), 0.2, 0.051]
    times = [T0 + i * H for i in range(len(values))]
    sigma = ConditionSpec(type="sigma", k=4, history=20, min_history=5)
    verdicts = slot_verdicts(sigma, times, values, times)
    assert verdicts[:5] == [U] * 5  # fewer than 5 earlier points: cannot judge yet
    assert verdicts[30] is B
    assert verdicts[31] is OK
    assert verdicts[5:30].count(B) == 0
    upward = ConditionSpec(type="sigma", k=4, direction="below", history=20, min_history=5)
    assert slot_verdicts(upward, times, values, [times[30]]) == [OK]


def test_seasonal_compares_with_the_same_hour_of_earlier_days() -> None:
    # A daily cycle: high at noon, low at night. Noon's high is normal; a high at 3 am is not.
    times = [T0 + i * H for i in range(24 * 5)]
    values = [1.0 + (0.5 if t.hour == 12 else 0.0) + 0.01 * (i % 3) for i, t in enumerate(times)]
    seasonal = ConditionSpec(type="seasonal", k=3, period_hours=24, seasons=4)
    noon = T0 + timedelta(days=4, hours=12)
    assert slot_verdicts(seasonal, times, values, [noon]) == [OK]
    night = T0 + timedelta(days=4, hours=3)
    spiked = [1.5 if t == night else v for t, v in zip(times, values, strict=True)]
    assert slot_verdicts(seasonal, times, spiked, [night]) == [B]
    assert slot_verdicts(seasonal, times, spiked, [T0 + timedelta(days=1)]) == [U]
    sigma = ConditionSpec(type="sigma", k=3, history=24)
    assert slot_verdicts(sigma, times, values, [noon]) == [B]  # without seasons noon looks odd


def _policy(**kwargs: Any) -> EvaluationSpec:
    return EvaluationSpec.model_validate(kwargs)


def test_m_of_n_ignores_one_noisy_point() -> None:
    two_of_three = _policy(m=2, n=3)
    state = AlertState.INSUFFICIENT_DATA
    history: list[Verdict] = []
    seen = []
    for verdict in [OK, B, OK, OK, B, B, OK, OK, OK]:
        history.append(verdict)
        state = decide(history, two_of_three, state)
        seen.append(state.value)
    assert seen == [
        "INSUFFICIENT_DATA",  # one datapoint: M=2 needs two
        "OK",
        "OK",  # the lone breach never alarmed
        "OK",
        "OK",
        "ALARM",
        "ALARM",  # B, B, O: still 2 of 3
        "OK",
        "OK",
    ]


@pytest.mark.parametrize(
    ("missing", "verdicts", "current", "expected"),
    [
        ("ok", [M, M, M], "ALARM", "OK"),
        ("alarm", [OK, M, M], "OK", "ALARM"),
        ("insufficient", [B, M, M], "ALARM", "INSUFFICIENT_DATA"),
        ("keep", [B, M, M], "ALARM", "ALARM"),
        ("keep", [M, M, M], "OK", "OK"),
        ("insufficient", [U, U, B], "OK", "INSUFFICIENT_DATA"),  # unknown is not data
        ("alarm", [U, U, OK], "OK", "INSUFFICIENT_DATA"),  # nor is it missing
    ],
)
def test_missing_data_policies(
    missing: str, verdicts: list[Verdict], current: str, expected: str
) -> None:
    policy = _policy(m=2, n=3, missing=missing)
    assert decide(verdicts, policy, AlertState(current)) == AlertState(expected)


def test_min_samples_guards_a_single_point() -> None:
    policy = _policy(m=1, n=5, min_samples=3)
    assert decide([B], policy, AlertState.OK) is AlertState.INSUFFICIENT_DATA
    assert decide([OK, OK, B], policy, AlertState.OK) is AlertState.ALARM


@given(st.lists(st.sampled_from([B, OK, M, U]), max_size=12), st.integers(1, 6), st.integers(0, 5))
def test_decisions_follow_the_counts(verdicts: list[Verdict], m: int, extra: int) -> None:
    policy = _policy(m=m, n=m + extra)
    state = decide(verdicts, policy, AlertState.OK)
    window = verdicts[-policy.n :]
    breaches = window.count(B)
    present = breaches + window.count(OK)
    if present < m:
        assert state is AlertState.INSUFFICIENT_DATA
    else:
        assert (state is AlertState.ALARM) == (breaches >= m)
