"""Evidently's defaults per window: Report([DataDriftPreset()]) with its tests, one report per
window against the whole reference. A column is flagged when its "Value Drift" test fails.
Evidently picks the method from the data: with a reference of at most 1,000 rows, KS (numeric)
and chi-squared (categorical) at p < 0.05; above, normed Wasserstein and Jensen-Shannon > 0.1.
"""

from __future__ import annotations

import os
from typing import Any

from _detection import WINDOW, main

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")


def detect(
    reference: Any, windows: Any, numeric: list[str], categorical: list[str], rows: int
) -> dict[int, list[str]]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref = Dataset.from_pandas(reference, data_definition=definition)
    flags: dict[int, list[str]] = {}
    for window, frame in windows.groupby(WINDOW, sort=True):
        current = Dataset.from_pandas(frame.drop(columns=[WINDOW]), data_definition=definition)
        result = (
            Report([DataDriftPreset()], include_tests=True)
            .run(current_data=current, reference_data=ref)
            .dict()
        )
        failed = {
            t["metric_config"]["params"].get("column")
            for t in result["tests"]
            if t["status"] == "FAIL"
        }
        flags[int(window)] = sorted(c for c in numeric + categorical if c in failed)
    return flags


if __name__ == "__main__":
    main("evidently", detect)
