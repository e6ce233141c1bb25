"""Write a reference/current pair of tables with known drift, for the drift benchmark.

    python benchmarks/generate.py --rows 1000000            # -> benchmarks/data/1000000/
    python benchmarks/generate.py --rows 100000 --csv       # also write CSV copies

Output directory (default ``benchmarks/data/<rows>/``):

- ``reference.parquet``, ``current.parquet`` (and ``.csv`` with ``--csv``)
- ``truth.json``: every column, its kind, its distribution, and whether ``current`` drifted.

25 columns: 20 numeric, 5 categorical (string). ``current`` draws every undrifted column from
the same distribution as ``reference`` with a different seed; the columns in ``DRIFT`` are
drifted as described there. Rows are produced and written in row groups of ``ROW_GROUP``
rows, each group from its own seeded generator, so output is deterministic and 10M rows need
only one row group in memory at a time.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROW_GROUP = 262_144  # rows per Parquet row group and per generation step
SEED = 20261123
DATA_DIR = Path(__file__).resolve().parent / "data"

Gen = Callable[[np.random.Generator, int], np.ndarray]


def _levels(prefix: str, n: int, zipf_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` level names with Zipf-like (skewed) probabilities."""
    weights = 1.0 / np.arange(1, n + 1) ** zipf_s
    return np.array([f"{prefix}{i:02d}" for i in range(n)]), weights / weights.sum()


def _cat(levels: np.ndarray, probs: np.ndarray) -> Gen:
    return lambda rng, n: rng.choice(levels, size=n, p=probs)


def _mixture(w_high: float) -> Gen:
    """0/1 mixture of N(0, 1) and N(5, 1) with weight ``w_high`` on the high component."""
    return lambda rng, n: rng.normal(0.0, 1.0, n) + 5.0 * (rng.random(n) < w_high)


def _with_nulls(gen: Gen, share: float) -> Gen:
    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = gen(rng, n)
        return np.where(rng.random(n) < share, np.nan, values)

    return draw


CITY, CITY_P = _levels("city_", 50, 1.1)
PRODUCT, PRODUCT_P = _levels("product_", 12, 0.9)
CHANNEL = np.array(["web", "app", "store"])
DEVICE = np.array(["desktop", "mobile", "tablet", "tv"])
PLAN = np.array(["free", "basic", "pro", "enterprise"])

# name -> (kind, description, reference generator)
COLUMNS: dict[str, tuple[str, str, Gen]] = {
    "num_normal_a": ("numeric", "normal(50, 10)", lambda r, n: r.normal(50, 10, n)),
    "num_normal_b": ("numeric", "normal(0, 1)", lambda r, n: r.normal(0, 1, n)),
    "num_normal_c": ("numeric", "normal(-3, 0.2)", lambda r, n: r.normal(-3, 0.2, n)),
    "num_lognormal_a": ("numeric", "lognormal(3, 0.5)", lambda r, n: r.lognormal(3, 0.5, n)),
    "num_lognormal_b": ("numeric", "lognormal(0, 1)", lambda r, n: r.lognormal(0, 1, n)),
    "num_exponential_a": ("numeric", "exponential(2)", lambda r, n: r.exponential(2, n)),
    "num_exponential_b": ("numeric", "exponential(0.1)", lambda r, n: r.exponential(0.1, n)),
    "num_uniform_a": ("numeric", "uniform(0, 100)", lambda r, n: r.uniform(0, 100, n)),
    "num_uniform_b": ("numeric", "uniform(-1, 1)", lambda r, n: r.uniform(-1, 1, n)),
    "num_poisson_a": ("numeric", "poisson(3), int64", lambda r, n: r.poisson(3, n)),
    "num_poisson_b": ("numeric", "poisson(40), int64", lambda r, n: r.poisson(40, n)),
    "num_gamma": ("numeric", "gamma(2, 3)", lambda r, n: r.gamma(2, 3, n)),
    "num_beta": ("numeric", "beta(2, 5)", lambda r, n: r.beta(2, 5, n)),
    "num_student_t": ("numeric", "student t(5)", lambda r, n: r.standard_t(5, n)),
    "num_with_nulls": (
        "numeric",
        "normal(10, 2), ~5% nulls",
        _with_nulls(lambda r, n: r.normal(10, 2, n), 0.05),
    ),
    "num_drift_shift": ("numeric", "normal(100, 15)", lambda r, n: r.normal(100, 15, n)),
    "num_drift_scale": ("numeric", "normal(0, 4)", lambda r, n: r.normal(0, 4, n)),
    "num_drift_unit": (
        "numeric",
        "lognormal(2, 0.7), a price",
        lambda r, n: r.lognormal(2, 0.7, n),
    ),
    "num_drift_mixture": ("numeric", "mixture 70% N(0,1) + 30% N(5,1)", _mixture(0.3)),
    "num_integer_ids": (
        "numeric",
        "uniform integers [0, 10000), int64",
        lambda r, n: r.integers(0, 10_000, n),
    ),
    "cat_channel": ("categorical", "3 levels 60/30/10", _cat(CHANNEL, np.array([0.6, 0.3, 0.1]))),
    "cat_product": ("categorical", "12 levels, Zipf(0.9)", _cat(PRODUCT, PRODUCT_P)),
    "cat_city": ("categorical", "50 levels, Zipf(1.1)", _cat(CITY, CITY_P)),
    "cat_drift_share": (
        "categorical",
        "4 levels 50/25/15/10",
        _cat(DEVICE, np.array([0.50, 0.25, 0.15, 0.10])),
    ),
    "cat_drift_new": (
        "categorical",
        "4 levels 40/30/20/10",
        _cat(PLAN, np.array([0.4, 0.3, 0.2, 0.1])),
    ),
}

# name -> (description of the drift, current generator)
DRIFT: dict[str, tuple[str, Gen]] = {
    "num_drift_shift": (
        "mean shift of +0.5 sd: normal(107.5, 15)",
        lambda r, n: r.normal(107.5, 15, n),
    ),
    "num_drift_scale": ("scale x1.5: normal(0, 6)", lambda r, n: r.normal(0, 6, n)),
    "num_drift_unit": (
        "unit change x100 (dollars -> cents)",
        lambda r, n: 100 * r.lognormal(2, 0.7, n),
    ),
    "num_drift_mixture": ("mixture weight of N(5,1) moves 30% -> 50%", _mixture(0.5)),
    "cat_drift_share": (
        "'desktop' share 50% -> 25%, 'mobile' 25% -> 50%",
        _cat(DEVICE, np.array([0.25, 0.50, 0.15, 0.10])),
    ),
    "cat_drift_new": (
        "new level 'trial' takes 20%: 30/25/15/10/20",
        _cat(np.append(PLAN, "trial"), np.array([0.30, 0.25, 0.15, 0.10, 0.20])),
    ),
}


def _batch(which: int, index: int, n: int) -> pa.RecordBatch:
    """Row group ``index`` of file ``which`` (0 = reference, 1 = current)."""
    arrays = []
    for col_no, (name, (_kind, _desc, gen)) in enumerate(COLUMNS.items()):
        if which == 1 and name in DRIFT:
            gen = DRIFT[name][1]
        rng = np.random.default_rng([SEED, which, index, col_no])
        values = gen(rng, n)
        mask = np.isnan(values) if values.dtype.kind == "f" else None
        arrays.append(pa.array(values, mask=mask))
    return pa.RecordBatch.from_arrays(arrays, names=list(COLUMNS))


def _write(path: Path, which: int, rows: int, csv: bool) -> None:
    tmp = path.with_suffix(".parquet.tmp")
    writer = None
    csv_writer = None
    try:
        for index, start in enumerate(range(0, rows, ROW_GROUP)):
            batch = _batch(which, index, min(ROW_GROUP, rows - start))
            if writer is None:
                writer = pq.ParquetWriter(tmp, batch.schema)
                if csv:
                    csv_writer = pacsv.CSVWriter(path.with_suffix(".csv"), batch.schema)
            writer.write_batch(batch, row_group_size=ROW_GROUP)
            if csv_writer is not None:
                csv_writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
        if csv_writer is not None:
            csv_writer.close()
    tmp.replace(path)


def truth(rows: int) -> dict[str, object]:
    return {
        "rows": rows,
        "seed": SEED,
        "row_group_size": ROW_GROUP,
        "drifted": list(DRIFT),
        "undrifted": [c for c in COLUMNS if c not in DRIFT],
        "numeric": [c for c, (kind, _, _) in COLUMNS.items() if kind == "numeric"],
        "categorical": [c for c, (kind, _, _) in COLUMNS.items() if kind == "categorical"],
        "columns": {
            name: {
                "kind": kind,
                "reference": desc,
                "current": DRIFT[name][0] if name in DRIFT else "same distribution, other seed",
                "drifted": name in DRIFT,
            }
            for name, (kind, desc, _) in COLUMNS.items()
        },
    }


def generate(rows: int, out: Path | None = None, csv: bool = False, force: bool = False) -> Path:
    """Write the pair into ``out`` (default ``data/<rows>``) unless already there."""
    out = out or DATA_DIR / str(rows)
    out.mkdir(parents=True, exist_ok=True)
    truth_path = out / "truth.json"
    wanted = [out / "reference.parquet", out / "current.parquet", truth_path]
    if csv:
        wanted += [out / "reference.csv", out / "current.csv"]
    if not force and all(p.exists() for p in wanted):
        return out
    truth_path.unlink(missing_ok=True)  # written last: its presence marks a complete pair
    for which, name in enumerate(["reference", "current"]):
        _write(out / f"{name}.parquet", which, rows, csv)
    truth_path.write_text(json.dumps(truth(rows), indent=2) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, help="output directory (default data/<rows>)")
    parser.add_argument("--csv", action="store_true", help="also write CSV copies")
    parser.add_argument("--force", action="store_true", help="rewrite even if present")
    args = parser.parse_args()
    print(generate(args.rows, args.out, args.csv, args.force))


if __name__ == "__main__":
    main()
