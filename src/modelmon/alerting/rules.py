"""An alert rule: which series (a metric name and label matchers), what counts as a breach, and
how many breaching datapoints of the last N make an ALARM.

The rule document is validated here, once, for the REST API, the CLI and default rules alike:
every refusal names the field. What needs the store (does the metric exist, do the channels)
is checked by :func:`modelmon.alerting.validate.check_references`.

Matchers are written ``{"feature": "=age", "model": "=~churn|credit", "segment": "!=test"}``.
The metric may end in ``*`` to take every metric with that prefix
(``feature_baseline_drift_*``: the drift of every feature).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelmon.alerting.templates import check_template
from modelmon.store import Matcher

__all__ = [
    "MISSING_POLICIES",
    "SEVERITIES",
    "ConditionSpec",
    "EvaluationSpec",
    "RuleSpec",
    "matcher_text",
    "parse_matcher",
    "parse_matchers",
]

SEVERITIES = ("info", "warning", "critical")
MISSING_POLICIES = ("ok", "alarm", "insufficient", "keep")
# Evaluations look at most this many datapoints back: one query, bounded work per execution.
MAX_N = 1000
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METRIC = re.compile(r"^[A-Za-z0-9_.:-]+\*?$")
_OPS = ("=~", "!~", "!=", "=")


def parse_matcher(text: str, field: str) -> Matcher:
    """``"=value"``, ``"!=value"``, ``"=~regex"`` or ``"!~regex"`` as a Matcher."""
    if not isinstance(text, str):
        raise ValueError(f"{field} must be a string like '=value' or '=~regex'; got {text!r}")
    for op in _OPS:
        if text.startswith(op):
            try:
                return Matcher(op, text[len(op) :])  # type: ignore[arg-type]
            except Exception as exc:  # the regex does not compile
                raise ValueError(f"{field}: {exc}") from None
    raise ValueError(
        f"{field} must start with =, !=, =~ or !~ (e.g. '=churn' or '=~age|income'); got {text!r}"
    )


def parse_matchers(matchers: dict[str, str], field: str = "matchers") -> dict[str, Matcher]:
    parsed = {}
    for label, text in matchers.items():
        if not _LABEL.match(label):
            raise ValueError(f"{field}: {label!r} is not a label name (letters, digits, _)")
        parsed[label] = parse_matcher(text, f"{field}.{label}")
    return parsed


def matcher_text(matcher: Matcher) -> str:
    return f"{matcher.op}{matcher.value}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _finite(value: float | None, name: str) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return value


class ConditionSpec(_Strict):
    """What one datapoint must do to count as breaching.

    * ``above`` / ``below``: value > threshold / value < threshold.
    * ``outside``: value < low or value > high.
    * ``sigma``: more than ``k`` standard deviations from the mean of the ``history`` points
      before it (at least ``min_history`` of them), in ``direction``.
    * ``seasonal``: more than ``k`` standard deviations from the points one, two, ...
      ``seasons`` periods (``period_hours``) earlier, each found within ``tolerance_minutes``.
    """

    type: Literal["above", "below", "outside", "sigma", "seasonal"]
    threshold: float | None = None
    low: float | None = None
    high: float | None = None
    k: float = Field(default=3.0, gt=0)
    direction: Literal["both", "above", "below"] = "both"
    history: int = Field(default=20, ge=2, le=MAX_N)
    min_history: int = Field(default=5, ge=2, le=MAX_N)
    period_hours: float = Field(default=24.0, gt=0, le=24 * 366)
    seasons: int = Field(default=4, ge=2, le=52)
    tolerance_minutes: float = Field(default=5.0, ge=0)

    @model_validator(mode="after")
    def _complete(self) -> ConditionSpec:
        _finite(self.threshold, "condition.threshold")
        _finite(self.low, "condition.low")
        _finite(self.high, "condition.high")
        if self.type in ("above", "below") and self.threshold is None:
            raise ValueError(f"condition.threshold is required for a {self.type!r} condition")
        if self.type == "outside":
            if self.low is None or self.high is None:
                raise ValueError("condition.low and condition.high are required for 'outside'")
            if self.low >= self.high:
                raise ValueError(
                    f"condition.low must be below condition.high; got {self.low} and {self.high}"
                )
        if self.type == "sigma" and self.min_history > self.history:
            raise ValueError(
                f"condition.min_history ({self.min_history}) cannot exceed condition.history "
                f"({self.history})"
            )
        return self

    def describe(self) -> str:
        if self.type == "above":
            return f"> {self.threshold:g}"
        if self.type == "below":
            return f"< {self.threshold:g}"
        if self.type == "outside":
            return f"outside [{self.low:g}, {self.high:g}]"
        if self.type == "sigma":
            return f"{self.k:g} sigma from its last {self.history} points"
        return f"{self.k:g} sigma from the same time of the last {self.seasons} periods"


class EvaluationSpec(_Strict):
    """ALARM when at least ``m`` of the last ``n`` datapoints breach.

    A datapoint is one execution of the series' schedule: an execution that wrote no point for
    the series (it failed, or skipped the feature) is a missing datapoint, and ``missing`` says
    what it means: ``ok`` (not breaching), ``alarm`` (breaching), ``insufficient`` (stays
    missing) or ``keep`` (stays missing, and a verdict on too few datapoints keeps the current
    state instead of going to INSUFFICIENT_DATA). Fewer than ``min_samples`` present datapoints
    give no verdict.
    """

    m: int = 1
    n: int = 1
    min_samples: int | None = None
    missing: Literal["ok", "alarm", "insufficient", "keep"] = "insufficient"

    @model_validator(mode="after")
    def _possible(self) -> EvaluationSpec:
        if self.n < 1 or self.n > MAX_N:
            raise ValueError(f"evaluation.n must be between 1 and {MAX_N}; got {self.n}")
        if self.m < 1 or self.m > self.n:
            raise ValueError(
                f"evaluation.m must be between 1 and evaluation.n ({self.n}): M of N with "
                f"M={self.m} can never be met"
            )
        if self.min_samples is not None and not 1 <= self.min_samples <= self.n:
            raise ValueError(
                f"evaluation.min_samples must be between 1 and evaluation.n ({self.n}); "
                f"got {self.min_samples}"
            )
        return self

    @property
    def required(self) -> int:
        """Present datapoints needed for a verdict; by default M, the fewest that can alarm."""
        return self.m if self.min_samples is None else self.min_samples


class RuleSpec(_Strict):
    """An alert rule as the REST API, the CLI and the store spell it."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    metric: str = Field(min_length=1, max_length=255)
    matchers: dict[str, str] = {}
    condition: ConditionSpec
    evaluation: EvaluationSpec = EvaluationSpec()
    severity: Literal["info", "warning", "critical"] = "warning"
    description: str = Field(
        default="$metric is $value ($condition) for $model $version", max_length=10_000
    )
    runbook_url: str | None = Field(default=None, max_length=2000)
    channels: list[str] = []
    remediation: list[str] = []
    reminder_minutes: float | None = Field(default=None, ge=1)
    enabled: bool = True
    allow_unknown_metric: bool = False

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        if not _METRIC.match(value):
            raise ValueError(
                "metric must be a metric name (letters, digits, _ . : -), optionally ending "
                f"in * for every metric with that prefix; got {value!r}"
            )
        return value

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: dict[str, str]) -> dict[str, str]:
        parse_matchers(value)
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        check_template(value, "description")
        return value

    @field_validator("runbook_url")
    @classmethod
    def _runbook(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"runbook_url must be an http(s) URL; got {value!r}")
        return value

    @property
    def label_matchers(self) -> dict[str, Matcher]:
        return parse_matchers(self.matchers)

    def matches_metric(self, name: str) -> bool:
        if self.metric.endswith("*"):
            return name.startswith(self.metric[:-1])
        return name == self.metric

    @property
    def metric_prefix(self) -> str:
        return self.metric[:-1] if self.metric.endswith("*") else self.metric

    def document(self) -> dict[str, Any]:
        """The JSON the store keeps."""
        return self.model_dump(mode="json")
