"""NannyML's defaults: UnivariateDriftCalculator with its default methods (Jensen-Shannon for
continuous and categorical columns) and thresholds (mean + 3 standard deviations of the
reference chunks' values), chunked by the window size, so the reference (ten windows' worth)
gives ten chunks. One fit and one calculate over all windows; a column is flagged in a window
when NannyML raises its alert for that chunk.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from _detection import WINDOW, main

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")


def detect(
    reference: Any, windows: Any, numeric: list[str], categorical: list[str], rows: int
) -> dict[int, list[str]]:
    import nannyml as nml

    columns = numeric + categorical
    ids = windows[WINDOW].drop_duplicates().tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calc = nml.UnivariateDriftCalculator(
            column_names=columns, treat_as_categorical=categorical, chunk_size=rows
        )
        calc.fit(reference)
        df = calc.calculate(windows.drop(columns=[WINDOW])).filter(period="analysis").to_df()
    flags: dict[int, list[str]] = {}
    for i, window in enumerate(ids):
        flags[int(window)] = sorted(
            c for c in columns if bool(df[(c, "jensen_shannon", "alert")].iloc[i])
        )
    return flags


if __name__ == "__main__":
    main("nannyml", detect)
