"""alibi-detect: TabularDrift (KS per numeric, chi2 per categorical feature), p_val=0.05.

Categorical columns are ordinal-encoded (shared codes for both files) and declared in
``categories_per_feature``. ``predict`` runs at its default ``drift_type='batch'`` with the
default Bonferroni correction; a feature is flagged when its p-value is below the corrected
threshold that alibi-detect returns (0.05 / 25). NaNs are passed through as they are.
"""

from __future__ import annotations

import numpy as np
from _common import Run, main


def encode(run: Run, ref, cur) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    def matrix(df, cats):
        cols = [df[c].to_numpy(dtype=np.float64) for c in run.numeric]
        cols += [
            pd.Categorical(df[c], categories=cats[c]).codes.astype(np.float64)
            for c in run.categorical
        ]
        return np.column_stack(cols)

    cats = {c: sorted(set(ref[c].unique()) | set(cur[c].unique())) for c in run.categorical}
    return matrix(ref, cats), matrix(cur, cats)


def body(run: Run) -> int:
    from alibi_detect.cd import TabularDrift

    ref, cur = run.load_pandas()
    with run.timed("drift"):
        x_ref, x_cur = encode(run, ref, cur)
        first_cat = len(run.numeric)
        cd = TabularDrift(
            x_ref,
            p_val=0.05,
            categories_per_feature={first_cat + i: None for i in range(len(run.categorical))},
        )
        data = cd.predict(x_cur)["data"]
    for i, c in enumerate(run.columns):
        p, test = data["p_val"][i], "chi2" if c in run.categorical else "ks"
        run.verdict(c, f"{test} p-value", p, p < data["threshold"], data["threshold"])
    return len(ref)


if __name__ == "__main__":
    main("alibi_detect", body)
