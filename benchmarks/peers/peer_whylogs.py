"""whylogs: profile both tables with why.log, then calculate_drift_scores with default thresholds.

Default algorithms: KS on KLL quantiles for numeric columns, chi2 on frequent items for
categorical ones; p-value bands > 0.15 NO_DRIFT, 0.05-0.15 POSSIBLE_DRIFT, < 0.05 DRIFT.
A column is flagged when its drift_category is DRIFT.
"""

from __future__ import annotations

import os

from _common import Run, main

os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")  # whylogs.api.usage_stats


def body(run: Run) -> int:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    ref, cur = run.load_pandas()
    with run.timed("drift"):
        ref_view = why.log(ref).view()
        cur_view = why.log(cur).view()
        scores = calculate_drift_scores(
            target_view=cur_view, reference_view=ref_view, with_thresholds=True
        )
    for c in run.columns:
        s = scores.get(c) or {}
        run.verdict(
            c, f"{s.get('algorithm')} p-value", s.get("pvalue"), s.get("drift_category") == "DRIFT"
        )
    return len(ref)


if __name__ == "__main__":
    main("whylogs", body)
