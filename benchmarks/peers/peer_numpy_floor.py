"""The floor: load both files, np.sort every numeric column, count every categorical one.

No statistic and no verdict: this is the least work any exact per-column drift check does.
"""

from __future__ import annotations

import numpy as np
from _common import Run, main


def body(run: Run) -> int:
    ref, cur = run.load_arrow()
    with run.timed("drift"):
        for table in (ref, cur):
            for c in run.numeric:
                np.sort(table[c].drop_null().to_numpy())
            for c in run.categorical:
                table[c].value_counts()
    return ref.num_rows


if __name__ == "__main__":
    main("numpy_floor", body)
