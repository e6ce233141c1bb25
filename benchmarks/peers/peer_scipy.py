"""scipy: ks_2samp per numeric column, chi2_contingency per categorical column, p < 0.05."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from _common import Run, main
from scipy import stats

P_VALUE = 0.05


def numeric(col: pa.ChunkedArray) -> np.ndarray:
    return col.drop_null().to_numpy()


def counts(col: pa.ChunkedArray) -> dict[str, int]:
    vc = col.value_counts()
    return dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))


def body(run: Run) -> int:
    ref, cur = run.load_arrow()
    with run.timed("drift"):
        for c in run.numeric:
            p = stats.ks_2samp(numeric(ref[c]), numeric(cur[c])).pvalue
            run.verdict(c, "ks_2samp p-value", p, p < P_VALUE)
        for c in run.categorical:
            a, b = counts(ref[c]), counts(cur[c])
            levels = sorted(set(a) | set(b), key=str)
            table = np.array([[a.get(k, 0) for k in levels], [b.get(k, 0) for k in levels]])
            p = stats.chi2_contingency(table).pvalue
            run.verdict(c, "chi2_contingency p-value", p, p < P_VALUE)
    return ref.num_rows


if __name__ == "__main__":
    main("scipy", body)
