"""Evidently: Report([DataDriftPreset()]) with its default tests, over all 25 columns.

Column types are declared (numerical / categorical) through a DataDefinition; methods and
thresholds are Evidently's defaults (reference > 1000 rows: normed Wasserstein > 0.1 for
numeric, Jensen-Shannon distance > 0.1 for categorical). A column is flagged when its
"Value Drift" test fails.
"""

from __future__ import annotations

import os

from _common import Run, main

os.environ.setdefault("DO_NOT_TRACK", "1")  # evidently.telemetry
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")  # iterative_telemetry, which it uses


def body(run: Run) -> int:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = run.load_pandas()
    with run.timed("drift"):
        definition = DataDefinition(
            numerical_columns=run.numeric, categorical_columns=run.categorical
        )
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            current_data=Dataset.from_pandas(cur, data_definition=definition),
            reference_data=Dataset.from_pandas(ref, data_definition=definition),
        )
        result = snapshot.dict()
    failed = {
        t["metric_config"]["params"].get("column") for t in result["tests"] if t["status"] == "FAIL"
    }
    for m in result["metrics"]:
        config = m["config"]
        if config["type"].endswith("ValueDrift"):
            c = config["column"]
            run.verdict(c, config["method"], m["value"], c in failed, config["threshold"])
    return len(ref)


if __name__ == "__main__":
    main("evidently", body)
