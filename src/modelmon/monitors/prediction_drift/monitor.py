"""The prediction-drift monitor: does a new version agree with the stable one on the same inputs?

``PredictionDriftMonitor`` is a small config object (its constructor only stores parameters);
``check`` validates them, pairs the two versions' predictions and compares them overall and per
segment:

* labels (strings, integers, booleans; or scores cut at ``decision_threshold``): the share of
  inputs on which the versions disagree, with a 95% Wilson interval;
* scores (floats): mean and maximum absolute difference, the KS statistic between the two score
  distributions, and Spearman's rank correlation.

Three ways in: two arrays (:meth:`PredictionDriftMonitor.check`), two columns of one dataset
scored by both versions, paired by row (:meth:`check_dataset`), or two versions' captures paired
by inference id (:meth:`check_captures`, what shadow mode produces).

Honest verdicts. With ``comparison_method="Robust"`` (the default) a disagreement rate violates
only when its whole 95% interval lies above ``max_disagreement``, and the KS statistic has its
critical value subtracted first (SageMaker's Robust L-infinity), so a small window's noise raises
no alarm. A group (the whole set, or one segment) with fewer than ``min_rows`` pairs is "not
evaluated" with the reason, as is a segment beyond the ``max_segments`` largest.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.errors import ConfigError, DatasetError
from modelmon.formats.datasets import DatasetFormat, open_dataset
from modelmon.formats.sagemaker import JsonObject
from modelmon.monitors.prediction_drift.join import join_predictions
from modelmon.monitors.prediction_drift.reporting import (
    Violation,
    check_count,
    exit_message,
    save_report,
)
from modelmon.stats.agreement import (
    LabelAgreement,
    ScoreAgreement,
    label_agreement,
    score_agreement,
    segment_codes,
)
from modelmon.stats.distances import linf_robust

__all__ = [
    "REPORT_FILE",
    "GroupAgreement",
    "PredictionDriftMonitor",
    "PredictionDriftResult",
]

REPORT_FILE = "prediction_drift_report.json"
Kind = Literal["label", "score"]
_KINDS = ("auto", "label", "score")
_METHODS = ("Robust", "Simple")
OVERALL = "prediction"


@dataclass(frozen=True)
class GroupAgreement:
    """Agreement within one group: every pair (``segment`` None) or one segment's.

    ``reason`` says why the group was not evaluated (then ``labels`` and ``scores`` are None).
    """

    segment: str | None
    rows: int
    labels: LabelAgreement | None = None
    scores: ScoreAgreement | None = None
    reason: str | None = None

    @property
    def evaluated(self) -> bool:
        return self.reason is None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"rows": self.rows, "evaluated": self.evaluated}
        if self.segment is not None:
            out = {"segment": self.segment, **out}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.labels is not None:
            out["disagreement"] = {
                "rate": self.labels.rate,
                "count": self.labels.disagreements,
                "ci95": [self.labels.low, self.labels.high],
            }
        if self.scores is not None:
            s = self.scores
            out["scores"] = {
                "mean_abs_diff": s.mean_abs_diff,
                "max_abs_diff": s.max_abs_diff,
                "ks_statistic": s.ks_statistic,
                "rank_correlation": s.rank_correlation,
            }
        return out


@dataclass(frozen=True)
class PredictionDriftResult:
    """The outcome of one comparison (see :meth:`report` for the JSON written)."""

    kind: Kind
    source: str
    baseline_name: str
    candidate_name: str
    rows: int
    overall: GroupAgreement
    segment_column: str | None
    segments: tuple[GroupAgreement, ...]
    segments_skipped: int
    violations: tuple[Violation, ...]
    thresholds: JsonObject = field(default_factory=dict)

    @property
    def has_violations(self) -> bool:
        return bool(self.violations)

    @property
    def missing_pairs(self) -> int:
        """Rows where either version gave no prediction (not compared)."""
        return self.rows - self.overall.rows

    def exit_message(self) -> str:
        return exit_message(len(self.violations))

    def report(self) -> JsonObject:
        return {
            "version": 1,
            "source": self.source,
            "baseline": self.baseline_name,
            "candidate": self.candidate_name,
            "kind": self.kind,
            "rows": self.rows,
            "compared": self.overall.rows,
            "missing_pairs": self.missing_pairs,
            "thresholds": self.thresholds,
            "overall": self.overall.to_json(),
            "segment_column": self.segment_column,
            "segments": [s.to_json() for s in self.segments],
            "segments_skipped": self.segments_skipped,
            "violations": len(self.violations),
        }

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write the report and ``constraint_violations.json`` into ``directory`` atomically."""
        return save_report(directory, REPORT_FILE, self.report(), self.violations)


@dataclass(frozen=True)
class _Config:
    kind: str
    max_disagreement: float
    decision_threshold: float | None
    max_ks: float | None
    min_rank_correlation: float | None
    max_mean_abs_diff: float | None
    robust: bool
    min_rows: int
    max_segments: int

    def to_json(self) -> JsonObject:
        return {
            "max_disagreement": self.max_disagreement,
            "decision_threshold": self.decision_threshold,
            "max_ks": self.max_ks,
            "min_rank_correlation": self.min_rank_correlation,
            "max_mean_abs_diff": self.max_mean_abs_diff,
            "comparison_method": "Robust" if self.robust else "Simple",
            "min_rows": self.min_rows,
            "max_segments": self.max_segments,
        }


class PredictionDriftMonitor:
    """Compare two versions' predictions on the same inputs.

    Parameters
    ----------
    kind
        ``"label"``, ``"score"`` or ``"auto"`` (default: floats are scores, anything else labels).
    max_disagreement
        Largest acceptable share of inputs whose labels differ (default 0.05).
    decision_threshold
        For scores: a score at or above it is the positive label, so label disagreement is
        checked too. Default None: scores are compared as scores only.
    max_ks
        Largest acceptable KS statistic between the two score distributions (default 0.1, as
        SageMaker's drift threshold); None turns the check off.
    min_rank_correlation
        Smallest acceptable Spearman correlation of paired scores (default 0.9); None: off.
    max_mean_abs_diff
        Largest acceptable mean absolute score difference (in the scores' unit; default off).
    comparison_method
        ``"Robust"`` (default; see the module docstring) or ``"Simple"`` (point estimates).
    min_rows
        Pairs a group needs to be evaluated (default 30).
    max_segments
        How many of the largest segments are compared (default 50); the rest are counted.
    """

    def __init__(
        self,
        *,
        kind: str = "auto",
        max_disagreement: float = 0.05,
        decision_threshold: float | None = None,
        max_ks: float | None = 0.1,
        min_rank_correlation: float | None = 0.9,
        max_mean_abs_diff: float | None = None,
        comparison_method: str = "Robust",
        min_rows: int = 30,
        max_segments: int = 50,
    ) -> None:
        self.kind = kind
        self.max_disagreement = max_disagreement
        self.decision_threshold = decision_threshold
        self.max_ks = max_ks
        self.min_rank_correlation = min_rank_correlation
        self.max_mean_abs_diff = max_mean_abs_diff
        self.comparison_method = comparison_method
        self.min_rows = min_rows
        self.max_segments = max_segments

    # -- the ways in -------------------------------------------------------------------------

    def check(
        self,
        baseline: Any,
        candidate: Any,
        *,
        segments: Any = None,
        segment_column: str | None = None,
        baseline_name: str = "baseline",
        candidate_name: str = "candidate",
        source: str = "arrays",
    ) -> PredictionDriftResult:
        """Compare paired predictions: ``baseline[i]`` and ``candidate[i]`` are the two
        versions' answers for input ``i`` (arrays, lists, Arrow arrays; nulls are dropped)."""
        config = self._config()
        base, cand = _array(baseline, "baseline"), _array(candidate, "candidate")
        if len(base) != len(cand):
            raise ConfigError(
                "The 'candidate' parameter of PredictionDriftMonitor.check must have one "
                f"prediction per baseline prediction ({len(base)}). Got {len(cand)} instead."
            )
        segment = None if segments is None else _array(segments, "segments")
        if segment is not None and len(segment) != len(base):
            raise ConfigError(
                "The 'segments' parameter of PredictionDriftMonitor.check must have one value "
                f"per prediction ({len(base)}). Got {len(segment)} instead."
            )
        kind = _kind(config.kind, base, cand, baseline_name, candidate_name)
        keep = _both_present(base, cand)
        base_values = _values(base.filter(keep), kind, baseline_name)
        cand_values = _values(cand.filter(keep), kind, candidate_name)
        overall = _group(None, base_values, cand_values, kind, config)
        groups: list[GroupAgreement] = []
        skipped = 0
        name = segment_column or "segment"
        if segment is not None:
            names, codes = segment_codes(segment.filter(keep))
            skipped = max(0, len(names) - config.max_segments)
            for index, label in enumerate(names[: config.max_segments]):
                rows = codes == index
                groups.append(_group(label, base_values[rows], cand_values[rows], kind, config))
        violations = [*_violations(overall, OVERALL, config)]
        for group in groups:
            violations.extend(_violations(group, f"{name}={group.segment}", config))
        return PredictionDriftResult(
            kind=kind,
            source=source,
            baseline_name=baseline_name,
            candidate_name=candidate_name,
            rows=len(base),
            overall=overall,
            segment_column=None if segment is None else name,
            segments=tuple(groups),
            segments_skipped=skipped,
            violations=tuple(violations),
            thresholds=config.to_json(),
        )

    def check_dataset(
        self,
        data: Any,
        baseline_column: str,
        candidate_column: str,
        *,
        segment_column: str | None = None,
        dataset_format: DatasetFormat | None = None,
    ) -> PredictionDriftResult:
        """Compare two prediction columns of one dataset (a path, DataFrame or Arrow table),
        row by row: each row is one input scored by both versions."""
        self._config()
        dataset = open_dataset(data, format=dataset_format)
        # dict.fromkeys: a column named twice (comparing a column with itself) is read once.
        wanted = list(dict.fromkeys([baseline_column, candidate_column, segment_column]))
        wanted = [c for c in wanted if c is not None]
        for column in wanted:
            if column not in dataset.schema.names:
                raise DatasetError(
                    "the dataset has no such column",
                    path=dataset.source.description,
                    column=column,
                    expected="one of " + ", ".join(dataset.schema.names),
                    found="no such column",
                )
        schema = pa.schema([dataset.schema.field(c) for c in wanted])
        table = pa.Table.from_batches([b.select(wanted) for b in dataset.batches()], schema=schema)
        return self.check(
            table[baseline_column],
            table[candidate_column],
            segments=None if segment_column is None else table[segment_column],
            segment_column=segment_column,
            baseline_name=baseline_column,
            candidate_name=candidate_column,
            source=dataset.source.description,
        )

    def check_captures(
        self,
        baseline: pa.Table,
        candidate: pa.Table,
        output: str,
        *,
        segment_column: str | None = None,
        baseline_name: str = "baseline",
        candidate_name: str = "candidate",
        source: str = "captures",
    ) -> PredictionDriftResult:
        """Compare the ``output`` of two versions' captures (``read_captures`` tables), paired
        by inference id: only inferences both versions answered are compared."""
        self._config()
        joined = join_predictions(
            baseline,
            candidate,
            output,
            segment=segment_column,
            baseline_name=f"version {baseline_name!r}",
            candidate_name=f"version {candidate_name!r}",
        )
        return self.check(
            joined["baseline"],
            joined["candidate"],
            segments=None if segment_column is None else joined["segment"],
            segment_column=segment_column,
            baseline_name=baseline_name,
            candidate_name=candidate_name,
            source=source,
        )

    # -- the one validation boundary -------------------------------------------------------

    def _config(self) -> _Config:
        owner = type(self).__name__
        if self.kind not in _KINDS:
            raise ConfigError(
                f"The 'kind' parameter of {owner} must be one of 'auto', 'label', 'score'. "
                f"Got {self.kind!r} instead."
            )
        if self.comparison_method not in _METHODS:
            raise ConfigError(
                f"The 'comparison_method' parameter of {owner} must be one of 'Robust', "
                f"'Simple'. Got {self.comparison_method!r} instead."
            )
        return _Config(
            kind=self.kind,
            max_disagreement=_fraction(owner, "max_disagreement", self.max_disagreement),
            decision_threshold=_optional_number(
                owner, "decision_threshold", self.decision_threshold
            ),
            max_ks=_optional_fraction(owner, "max_ks", self.max_ks),
            min_rank_correlation=_optional_correlation(
                owner, "min_rank_correlation", self.min_rank_correlation
            ),
            max_mean_abs_diff=_optional_number(
                owner, "max_mean_abs_diff", self.max_mean_abs_diff, positive=True
            ),
            robust=self.comparison_method == "Robust",
            min_rows=check_count(owner, "min_rows", self.min_rows),
            max_segments=check_count(owner, "max_segments", self.max_segments),
        )


# -- validation helpers ------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fraction(owner: str, parameter: str, value: object) -> float:
    if not _is_number(value) or not 0.0 <= float(value) <= 1.0:  # type: ignore[arg-type]
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be a float in the range [0, 1]. "
            f"Got {value!r} instead."
        )
    return float(value)  # type: ignore[arg-type]


def _optional_fraction(owner: str, parameter: str, value: object) -> float | None:
    return None if value is None else _fraction(owner, parameter, value)


def _optional_correlation(owner: str, parameter: str, value: object) -> float | None:
    if value is None:
        return None
    if not _is_number(value) or not -1.0 <= float(value) <= 1.0:  # type: ignore[arg-type]
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be a float in the range [-1, 1], "
            f"or None to skip the check. Got {value!r} instead."
        )
    return float(value)  # type: ignore[arg-type]


def _optional_number(
    owner: str, parameter: str, value: object, *, positive: bool = False
) -> float | None:
    if value is None:
        return None
    if not _is_number(value) or (positive and float(value) < 0):  # type: ignore[arg-type]
        what = "a finite number >= 0" if positive else "a finite number"
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be {what}, or None. "
            f"Got {value!r} instead."
        )
    return float(value)  # type: ignore[arg-type]


# -- pairing --------------------------------------------------------------------------------


def _array(values: Any, parameter: str) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(np.asarray(values) if not isinstance(values, list) else values)
    except (pa.ArrowException, ValueError, TypeError) as error:
        raise ConfigError(
            f"The {parameter!r} parameter of PredictionDriftMonitor.check must be a column of "
            f"predictions (a list, array or Arrow array). Got {type(values).__name__} ({error})."
        ) from error


def _is_score_type(kind: pa.DataType) -> bool:
    return bool(pa.types.is_floating(kind) or pa.types.is_decimal(kind))


def _is_numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or _is_score_type(kind) or pa.types.is_null(kind)


def _kind(wanted: str, base: pa.Array, cand: pa.Array, base_name: str, cand_name: str) -> Kind:
    if wanted == "label":
        return "label"
    scores = _is_score_type(base.type) or _is_score_type(cand.type)
    if wanted == "auto":
        numeric = _is_numeric(base.type) and _is_numeric(cand.type)
        return "score" if scores and numeric else "label"
    for name, array in ((base_name, base), (cand_name, cand)):
        if not _is_numeric(array.type):
            raise DatasetError(
                "scores must be numbers",
                column=name,
                expected="numeric predictions",
                found=f"{array.type} values such as {_first(array)!r}",
            )
    return "score"


def _first(array: pa.Array) -> object:
    present = array.drop_null()
    return present[0].as_py() if len(present) else None


def _both_present(base: pa.Array, cand: pa.Array) -> pa.Array:
    keep = pc.and_(pc.is_valid(base), pc.is_valid(cand))
    for array in (base, cand):
        if pa.types.is_floating(array.type):
            keep = pc.and_(keep, pc.invert(pc.is_nan(array).fill_null(True)))
    return keep.fill_null(False)


def _values(array: pa.Array, kind: Kind, name: str) -> np.ndarray:
    if kind == "score":
        values: np.ndarray = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        if np.isinf(values).any():
            raise DatasetError(
                "scores must be finite",
                column=name,
                expected="finite numbers",
                found=f"{int(np.isinf(values).sum())} infinite values",
            )
        return values
    if pa.types.is_integer(array.type) or pa.types.is_boolean(array.type):
        numbers: np.ndarray = array.to_numpy(zero_copy_only=False)
        return numbers
    # Labels compared as text, so that "1" in one column equals 1 in the other.
    return np.asarray(array.cast(pa.string()).to_pylist(), dtype=object)


# -- evaluation -----------------------------------------------------------------------------


def _group(
    segment: str | None, base: np.ndarray, cand: np.ndarray, kind: Kind, config: _Config
) -> GroupAgreement:
    rows = len(base)
    if rows < config.min_rows:
        what = "no pair has both predictions" if rows == 0 else f"only {rows} pairs"
        return GroupAgreement(
            segment,
            rows,
            reason=f"not evaluated: {what}; at least {config.min_rows} (min_rows) are needed",
        )
    if kind == "label":
        return GroupAgreement(segment, rows, labels=label_agreement(_as_text(base), _as_text(cand)))
    labels = None
    if config.decision_threshold is not None:
        cut = config.decision_threshold
        labels = label_agreement(base >= cut, cand >= cut)
    return GroupAgreement(segment, rows, labels=labels, scores=score_agreement(base, cand))


def _as_text(values: np.ndarray) -> np.ndarray:
    """Labels of mixed kinds (an int column against a text one) compared as text."""
    if values.dtype == object:
        return values
    return np.asarray([str(v) for v in values.tolist()], dtype=object)


def _violations(group: GroupAgreement, feature: str, config: _Config) -> list[Violation]:
    found: list[Violation] = []
    labels, scores = group.labels, group.scores
    where = f"on {group.rows} inputs"
    if labels is not None:
        judged = labels.low if config.robust else labels.rate
        if judged > config.max_disagreement:
            bound = (
                f" (95% interval {labels.low:.4g} to {labels.high:.4g})" if config.robust else ""
            )
            found.append(
                Violation(
                    feature,
                    "prediction_disagreement_check",
                    f"The versions disagree on {labels.rate:.4g} of inputs{bound}, more than "
                    f"the threshold {config.max_disagreement:g}, {where}.",
                )
            )
    if scores is None:
        return found
    if config.max_ks is not None:
        ks = scores.ks_statistic
        judged = linf_robust(ks, group.rows, group.rows) if config.robust else ks
        if judged > config.max_ks:
            shown = f"{ks:.4g} (robust {judged:.4g})" if config.robust else f"{ks:.4g}"
            found.append(
                Violation(
                    feature,
                    "prediction_distribution_check",
                    f"The score distributions differ: KS statistic {shown} exceeds the "
                    f"threshold {config.max_ks:g}, {where}.",
                )
            )
    rho = scores.rank_correlation
    floor = config.min_rank_correlation
    if floor is not None and rho is not None and rho < floor:
        found.append(
            Violation(
                feature,
                "prediction_rank_check",
                f"The versions rank inputs differently: rank correlation {rho:.4g} is "
                f"below the threshold {floor:g}, {where}.",
            )
        )
    if config.max_mean_abs_diff is not None and scores.mean_abs_diff > config.max_mean_abs_diff:
        found.append(
            Violation(
                feature,
                "prediction_score_difference_check",
                f"The mean absolute score difference {scores.mean_abs_diff:.4g} exceeds the "
                f"threshold {config.max_mean_abs_diff:g}, {where}.",
            )
        )
    return found
