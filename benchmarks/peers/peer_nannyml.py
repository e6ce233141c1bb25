"""NannyML: UnivariateDriftCalculator, KS for continuous and chi2 for categorical columns.

reference = the reference file, analysis = the current file, one chunk each (chunk_number=1);
a column is flagged when NannyML raises its alert for the analysis chunk. With a single
reference chunk the default KS threshold (mean + 3 sd of the reference chunks' statistic) is 0,
so any nonzero KS distance alerts; NannyML warns that the number of chunks is too low.
"""

from __future__ import annotations

import os

from _common import Run, main

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

METHODS = {"continuous": "kolmogorov_smirnov", "categorical": "chi2"}


def body(run: Run) -> int:
    import nannyml as nml

    ref, cur = run.load_pandas()
    with run.timed("drift"):
        calc = nml.UnivariateDriftCalculator(
            column_names=run.columns,
            treat_as_categorical=run.categorical,
            continuous_methods=[METHODS["continuous"]],
            categorical_methods=[METHODS["categorical"]],
            chunk_number=1,
        )
        calc.fit(ref)
        df = calc.calculate(cur).filter(period="analysis").to_df().sort_index(axis=1)
    for c in run.columns:
        method = METHODS["categorical" if c in run.categorical else "continuous"]
        row = df[(c, method)].iloc[0]
        run.verdict(c, method, row["value"], row["alert"], row["upper_threshold"])
    return len(ref)


if __name__ == "__main__":
    main("nannyml", body)
