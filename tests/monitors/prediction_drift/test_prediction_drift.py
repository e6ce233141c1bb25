"""The prediction-drift monitor: labels, scores, segments, honest verdicts, files and captures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from modelmon import Capture
from modelmon.capture import read_captures
from modelmon.errors import ConfigError, DatasetError
from modelmon.monitors.prediction_drift import PredictionDriftMonitor, join_predictions

RNG = np.random.default_rng(3)
T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)


def labels_with_flips(n: int, flips: int) -> tuple[list[str], list[str]]:
    base = ["approve" if i % 3 else "deny" for i in range(n)]
    cand = list(base)
    for i in range(flips):
        cand[i] = "deny" if cand[i] == "approve" else "approve"
    return base, cand


def checks(result: object) -> list[tuple[str, str]]:
    return [(v.feature_name, v.constraint_check_type) for v in result.violations]  # type: ignore[attr-defined]


def test_identical_labels_agree() -> None:
    base, cand = labels_with_flips(500, 0)
    result = PredictionDriftMonitor().check(base, cand)
    assert result.kind == "label"
    assert result.overall.labels is not None
    assert result.overall.labels.rate == 0.0
    assert not result.has_violations


def test_a_high_disagreement_is_a_violation_that_says_how_much() -> None:
    base, cand = labels_with_flips(2000, 200)
    result = PredictionDriftMonitor().check(base, cand)
    [violation] = result.violations
    assert (violation.feature_name, violation.constraint_check_type) == (
        "prediction",
        "prediction_disagreement_check",
    )
    assert "disagree on 0.1 of inputs" in violation.description
    assert "threshold 0.05" in violation.description
    assert "2000 inputs" in violation.description


def test_robust_needs_the_whole_interval_above_the_threshold() -> None:
    base, cand = labels_with_flips(40, 3)  # 7.5%: over 0.05, but noise at 40 rows
    assert not PredictionDriftMonitor().check(base, cand).has_violations
    simple = PredictionDriftMonitor(comparison_method="Simple").check(base, cand)
    assert checks(simple) == [("prediction", "prediction_disagreement_check")]


def test_close_scores_agree_and_shuffled_or_shifted_scores_do_not() -> None:
    base = RNG.uniform(0, 1, 3000)
    close = np.clip(base + RNG.normal(0, 0.01, base.size), 0, 1)
    assert not PredictionDriftMonitor().check(base, close).has_violations
    shuffled = RNG.permutation(base)  # same distribution, unrelated ranking
    assert checks(PredictionDriftMonitor().check(base, shuffled)) == [
        ("prediction", "prediction_rank_check")
    ]
    shifted = np.clip(base + 0.3, 0, 1)  # same ranking, different distribution
    found = PredictionDriftMonitor(max_mean_abs_diff=0.1).check(base, shifted)
    assert checks(found) == [
        ("prediction", "prediction_distribution_check"),
        ("prediction", "prediction_score_difference_check"),
    ]


def test_a_decision_threshold_adds_label_disagreement_to_scores() -> None:
    base = np.linspace(0, 1, 1000)
    cand = base + 0.1
    result = PredictionDriftMonitor(decision_threshold=0.5, max_ks=None).check(base, cand)
    assert result.overall.labels is not None
    assert result.overall.labels.rate == pytest.approx(0.1, abs=0.002)
    assert checks(result) == [("prediction", "prediction_disagreement_check")]


def test_segments_find_where_the_versions_disagree() -> None:
    n = 3000
    region = np.array(["north", "south", "east"])[np.arange(n) % 3]
    base, cand = labels_with_flips(n, 0)
    cand = [
        "deny" if r == "east" and i % 4 == 0 else c
        for i, (r, c) in enumerate(zip(region, cand, strict=True))
    ]
    result = PredictionDriftMonitor(max_disagreement=0.1).check(
        base, cand, segments=region, segment_column="region"
    )
    assert [s.segment for s in result.segments] == ["east", "north", "south"]
    assert [s.rows for s in result.segments] == [1000, 1000, 1000]
    assert checks(result) == [("region=east", "prediction_disagreement_check")]
    capped = PredictionDriftMonitor(max_segments=2).check(base, cand, segments=region)
    assert (len(capped.segments), capped.segments_skipped) == (2, 1)


def test_missing_predictions_are_dropped_and_small_groups_not_evaluated() -> None:
    base = [0.1, None, 0.3, float("nan"), 0.5] * 4
    cand = [0.1, 0.2, None, 0.4, 0.5] * 4
    result = PredictionDriftMonitor().check(base, cand)
    assert (result.rows, result.overall.rows, result.missing_pairs) == (20, 8, 12)
    assert not result.overall.evaluated
    assert result.overall.reason == (
        "not evaluated: only 8 pairs; at least 30 (min_rows) are needed"
    )
    assert not result.has_violations
    empty = PredictionDriftMonitor().check([None, None], [1.0, 2.0])
    assert empty.overall.reason is not None
    assert "no pair has both predictions" in empty.overall.reason


def test_constant_scores_have_no_rank_correlation_and_no_rank_violation() -> None:
    result = PredictionDriftMonitor().check(np.full(100, 0.5), np.full(100, 0.5))
    assert result.overall.scores is not None
    assert result.overall.scores.rank_correlation is None
    assert not result.has_violations


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"max_disagreement": 2.0}, "'max_disagreement'"),
        ({"kind": "scores"}, "'kind'"),
        ({"min_rows": 0}, "'min_rows'"),
        ({"min_rank_correlation": 1.5}, "'min_rank_correlation'"),
        ({"comparison_method": "robust"}, "'comparison_method'"),
        ({"max_mean_abs_diff": -1.0}, "'max_mean_abs_diff'"),
    ],
)
def test_bad_parameters_name_themselves(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        PredictionDriftMonitor(**options).check([1.0], [1.0])  # type: ignore[arg-type]


def test_unpaired_inputs_and_text_scores_are_refused() -> None:
    with pytest.raises(ConfigError, match="one prediction per baseline prediction"):
        PredictionDriftMonitor().check([1, 2], [1])
    with pytest.raises(DatasetError, match="scores must be numbers"):
        PredictionDriftMonitor(kind="score").check(["a"], [1.0])


def test_a_dataset_with_two_prediction_columns(tmp_path: Path) -> None:
    base = RNG.uniform(0, 1, 500)
    table = pa.table(
        {
            "stable": base,
            "new": RNG.permutation(base),
            "region": np.array(["a", "b"])[np.arange(500) % 2],
        }
    )
    path = tmp_path / "scored.csv"
    pacsv.write_csv(table, path)
    result = PredictionDriftMonitor().check_dataset(path, "stable", "new", segment_column="region")
    assert (result.baseline_name, result.candidate_name, result.source) == (
        "stable",
        "new",
        str(path),
    )
    assert ("region=a", "prediction_rank_check") in checks(result)
    written = result.save(tmp_path / "out")
    report = json.loads(written[0].read_text())
    assert report["kind"] == "score"
    assert report["compared"] == 500
    assert report["segments"][0]["segment"] == "a"
    assert report["overall"]["scores"]["rank_correlation"] < 0.2
    violations = json.loads(written[1].read_text())["violations"]
    assert len(violations) == len(result.violations)
    with pytest.raises(DatasetError, match="'missing'") as error:
        PredictionDriftMonitor().check_dataset(path, "stable", "missing")
    assert "stable, new, region" in str(error.value)


def test_captures_of_two_versions_are_paired_by_inference_id(tmp_path: Path) -> None:
    ids = [f"r{i}" for i in range(200)]
    inputs = pa.table({"age": np.arange(200) % 60 + 20, "plan": ["a", "b"] * 100})
    scores = np.linspace(0.0, 1.0, 200)
    with Capture("churn", "v1", data_dir=tmp_path) as stable:
        stable.log_batch(inputs, pa.table({"score": scores}), inference_ids=ids, time=T0)
        # An id resent by a client: its last capture counts.
        later = T0 + timedelta(minutes=1)
        stable.log({"age": 20, "plan": "a"}, {"score": 0.99}, inference_id="r0", time=later)
    with Capture("churn", "v2", data_dir=tmp_path) as challenger:
        # The challenger answered only half the requests (a 50% shadow share).
        half = inputs.slice(0, 100)
        challenger.log_batch(
            half, pa.table({"score": scores[:100]}), inference_ids=ids[:100], time=T0
        )
    v1 = read_captures(tmp_path, "churn", version="v1", with_labels=False)
    v2 = read_captures(tmp_path, "churn", version="v2", with_labels=False)
    joined = join_predictions(v1, v2, "score", segment="plan")
    assert joined.num_rows == 100
    pairs = dict(
        zip(joined["inference_id"].to_pylist(), joined["baseline"].to_pylist(), strict=True)
    )
    assert pairs["r0"] == 0.99
    assert pairs["r50"] == pytest.approx(scores[50])
    assert set(pairs) == set(ids[:100])
    result = PredictionDriftMonitor().check_captures(v1, v2, "score", segment_column="plan")
    assert result.overall.rows == 100
    assert [s.segment for s in result.segments] == ["a", "b"]
    with pytest.raises(DatasetError, match="'prob'") as error:
        join_predictions(v1, v2, "prob")
    assert "output.score" in str(error.value)


def test_the_cli_compares_two_columns_and_exits_1_on_violations(
    tmp_path: Path, run_cli: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = labels_with_flips(1000, 300)
    path = tmp_path / "scored.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": base, "b": cand, "seg": ["x", "y"] * 500}), path)
    out = tmp_path / "out"
    argv = ["prediction-drift", "check", "--dataset", str(path), "--baseline-column", "a"]
    code = run_cli([*argv, "--candidate-column", "b", "--segment", "seg", "--output", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "VIOLATION prediction:" in printed
    assert "seg=x" in printed
    assert (out / "prediction_drift_report.json").is_file()
    same = run_cli([*argv, "--candidate-column", "a", "--output", str(out)])
    assert same == 0
    assert run_cli([*argv, "--candidate-column", "nope", "--output", str(out)]) == 2
    assert "'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):
        run_cli(["prediction-drift", "check", "--output", str(out)])  # neither input


def test_the_cli_compares_captures(
    tmp_path: Path, run_cli: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [f"r{i}" for i in range(100)]
    inputs = pa.table({"age": np.arange(100)})
    for version, shift in (("v1", 0.0), ("v2", 0.5)):
        with Capture("churn", version, data_dir=tmp_path) as capture:
            outputs = pa.table({"score": np.linspace(0, 0.5, 100) + shift})
            capture.log_batch(inputs, outputs, inference_ids=ids, time=T0)
    argv = [
        "prediction-drift", "check", "--captures", str(tmp_path), "--model", "churn",
        "--baseline-version", "v1", "--candidate-version", "v2", "--output-column", "score",
        "--output", str(tmp_path / "out"),
    ]  # fmt: skip
    assert run_cli(argv) == 1
    assert (
        "prediction_distribution_check"
        in (tmp_path / "out" / "constraint_violations.json").read_text()
    )
    assert run_cli([*argv[:-4], "--output", str(tmp_path / "out")]) == 2  # no --output-column
    assert "--output-column" in capsys.readouterr().err
