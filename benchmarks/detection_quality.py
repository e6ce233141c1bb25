"""Detection-quality benchmark: false alarms and detections on simulated streams with known drift.

    .venv/bin/python benchmarks/detection_quality.py                       # everything (~20 min)
    .venv/bin/python benchmarks/detection_quality.py --sizes 100 1000 --peers none --quick
    .venv/bin/python benchmarks/detection_quality.py --table               # table of stored results

Data (seeded numpy): ten features per row: numeric (normal, log-normal, integer counts; two of
each) and categorical (5 and 20 levels; two of each). A stream is a sequence of windows of
``w`` rows. Effect sizes are population L-infinity distances D (the KS distance for numeric
features, the largest change of a category's share for categorical ones): a numeric feature's
underlying normal moves by ``2 * Phi^-1((1 + D) / 2)`` standard deviations; a categorical
feature sends a share of its traffic to its rarest category, so that category's share grows by D.

Scenarios, each a stream of six windows (window 0 unchanged, drift from window 1):
* ``abrupt``: windows 1-5 drifted by D;
* ``gradual``: 25%, 50%, 75%, 100%, 100% of the rows of windows 1-5 come from the drifted
  distribution (MOA-style gradual concept drift);
* ``recurring``: drifted in windows 1-2 and 4-5, back to normal in window 3 (two episodes).
Drift-free streams measure false alarms: the share of (feature, window) pairs flagged. Unchanged
windows inside drift streams (window 0, recurring window 3) count as drift-free windows too.

Tools, each with its defaults: modelmon's data-quality monitor (Robust L-infinity, threshold
0.1); Evidently's DataDriftPreset and NannyML's UnivariateDriftCalculator (from their venvs,
benchmarks/setup_peers.sh; peers/detection_*.py); modelmon's streaming monitor (ADWIN per
stream, fed the windows' rows in order). Separate sections: multivariate methods on a broken
correlation (marginals unchanged), and the streaming detectors on error streams.

Writes benchmarks/results/detection_quality.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats

from modelmon.monitors.data_quality import DataQualityMonitor
from modelmon.services.streaming import StreamingMonitor
from modelmon.stats import multivariate as mv
from modelmon.stats.honest import critical_distance
from modelmon.stats.streaming import Adwin, Ddm, Eddm, Kswin, PageHinkley

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "detection_quality.json"
VENVS = HERE / ".venvs"
PEERS = HERE / "peers"

NUMERIC = [f"{kind}_{i}" for kind in ("normal", "skewed", "count") for i in range(2)]
CATEGORICAL = [f"{kind}_{i}" for kind in ("cat5", "cat20") for i in range(2)]
FEATURES = NUMERIC + CATEGORICAL
CAT5 = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
CAT20 = (lambda p: p / p.sum())(1.0 / np.arange(1, 21))
EFFECTS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
SCENARIOS = {
    # window -> share of drifted rows (0 = unchanged)
    "abrupt": [0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    "gradual": [0.0, 0.25, 0.5, 0.75, 1.0, 1.0],
    "recurring": [0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
}
EPISODES = {"abrupt": [(1, 5)], "gradual": [(1, 5)], "recurring": [(1, 2), (4, 5)]}
STREAM_SIZES = {100, 1000, 10_000}  # the streaming monitor runs in pure Python: these only


# -- data ----------------------------------------------------------------------------------------


def _levels(n: int) -> np.ndarray:
    return np.array([f"v{i:02d}" for i in range(n)])


LEVELS = {5: _levels(5), 20: _levels(20)}


def make_window(rng: np.random.Generator, rows: int, effect: float, share: float) -> pa.Table:
    """``rows`` rows; a ``share`` of them (chosen at random) drifted by population distance D."""
    drifted = rng.random(rows) < share if share > 0 else np.zeros(rows, dtype=bool)
    delta = 2.0 * NormalDist().inv_cdf((1.0 + effect) / 2.0) if share > 0 else 0.0
    columns: dict[str, Any] = {}
    for name in NUMERIC:
        z = rng.standard_normal(rows) + delta * drifted
        if name.startswith("normal"):
            columns[name] = z
        elif name.startswith("skewed"):
            columns[name] = np.exp(0.5 * z)
        else:
            columns[name] = np.maximum(np.rint(3.0 * z + 20.0), 0).astype(np.int64)
    for name in CATEGORICAL:
        p = CAT5 if name.startswith("cat5") else CAT20
        codes = rng.choice(len(p), rows, p=p)
        if share > 0:
            # Send a share lam of the drifted rows to the rarest level: its share grows by D.
            lam = effect / (1.0 - p[-1])
            moved = drifted & (rng.random(rows) < lam)
            codes[moved] = len(p) - 1
        levels = pa.array(LEVELS[len(p)])
        indices = pa.array(codes.astype(np.int32))
        columns[name] = pa.DictionaryArray.from_arrays(indices, levels).cast(pa.string())
    return pa.table(columns)


@dataclass(frozen=True)
class Window:
    """One window of a stream: where it sits and what it holds."""

    id: int
    stream: str  # "null" or "<scenario>/<effect>/<seed>"
    scenario: str
    effect: float
    seed: int
    index: int
    share: float


def plan(
    sizes_seed: int,
    null_windows: int,
    seeds: int,
    effects: tuple[float, ...],
    scenarios: tuple[str, ...] = tuple(SCENARIOS),
) -> list[Window]:
    windows: list[Window] = []
    for i in range(null_windows):
        windows.append(Window(len(windows), "null", "null", 0.0, sizes_seed, i, 0.0))
    for scenario in scenarios:
        shares = SCENARIOS[scenario]
        for effect in effects:
            for seed in range(seeds):
                stream = f"{scenario}/{effect}/{seed}"
                for index, share in enumerate(shares):
                    windows.append(
                        Window(len(windows), stream, scenario, effect, seed, index, share)
                    )
    return windows


def window_data(size: int, window: Window) -> pa.Table:
    key = [size, window.id, int(window.effect * 1000), window.seed, 7]
    return make_window(np.random.default_rng(key), size, window.effect, window.share)


def reference_rows(size: int) -> int:
    """Ten windows' worth (NannyML's thresholds need reference chunks), at most two million."""
    return min(10 * size, max(size, 2_000_000))


def reference_data(size: int) -> pa.Table:
    return make_window(np.random.default_rng([size, 99]), reference_rows(size), 0.0, 0.0)


# -- scoring -------------------------------------------------------------------------------------


@dataclass
class Score:
    """Flags per (window id, feature) turned into false-alarm and detection figures."""

    windows: list[Window]
    flags: dict[int, set[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self, features: list[str]) -> dict[str, Any]:
        by_id = {w.id: w for w in self.windows if w.id in self.flags}
        clean = [w for w in by_id.values() if w.share == 0.0]
        alarms = sum(len(self.flags[w.id] & set(features)) for w in clean)
        trials = len(clean) * len(features)
        out: dict[str, Any] = {
            "false_alarms": {
                "feature_windows": trials,
                "alarms": alarms,
                "rate": alarms / trials if trials else None,
                "upper95": _clopper_pearson_upper(alarms, trials),
            },
            "detection": {},
            "seconds": round(self.seconds, 2),
        }
        streams: dict[str, list[Window]] = {}
        for w in by_id.values():
            if w.stream != "null":
                streams.setdefault(w.stream, []).append(w)
        table: dict[str, dict[str, dict[str, Any]]] = {}
        for members in streams.values():
            scenario, effect = members[0].scenario, members[0].effect
            by_index = {w.index: w for w in members}
            for lo, hi in EPISODES[scenario]:
                for kind, names in (("numeric", NUMERIC), ("categorical", CATEGORICAL)):
                    cell = table.setdefault(scenario, {}).setdefault(f"{effect:g}", {})
                    slot = cell.setdefault(kind, {"episodes": 0, "detected": 0, "delays": []})
                    for name in names:
                        if name not in features:
                            continue
                        slot["episodes"] += 1
                        hits = [
                            i - lo
                            for i in range(lo, hi + 1)
                            if i in by_index and name in self.flags[by_index[i].id]
                        ]
                        if hits:
                            slot["detected"] += 1
                            slot["delays"].append(hits[0])
        for scenario, cells in table.items():
            out["detection"][scenario] = {}
            for effect, kinds in cells.items():
                merged = {}
                for kind, slot in kinds.items():
                    if slot["episodes"]:
                        merged[kind] = _rate(slot)
                out["detection"][scenario][effect] = merged
        out["always_detected_from"] = _always_detected_from(out["detection"])
        return out


def _rate(slot: dict[str, Any]) -> dict[str, Any]:
    delays = slot["delays"]
    return {
        "episodes": slot["episodes"],
        "detected": slot["detected"],
        "rate": slot["detected"] / slot["episodes"],
        "mean_delay_windows": round(float(np.mean(delays)), 3) if delays else None,
    }


def _always_detected_from(detection: dict[str, Any]) -> dict[str, float | None]:
    """Per scenario and kind, the smallest effect from which every episode of every effect at
    least as large was detected."""
    out: dict[str, float | None] = {}
    for scenario, cells in detection.items():
        for kind in ("numeric", "categorical"):
            effects = sorted(float(e) for e in cells if kind in cells[e])
            best = None
            for e in reversed(effects):
                if cells[f"{e:g}"][kind]["rate"] < 1.0:
                    break
                best = e
            out[f"{scenario}/{kind}"] = best
    return out


def _clopper_pearson_upper(k: int, n: int, level: float = 0.95) -> float | None:
    if n == 0:
        return None
    if k >= n:
        return 1.0
    return float(stats.beta.ppf(level, k + 1, n - k))


# -- tools ---------------------------------------------------------------------------------------


def run_modelmon(
    size: int, windows: list[Window], reference: pa.Table, threshold: float = 0.1
) -> Score:
    monitor = DataQualityMonitor(workers=1, comparison_threshold=threshold)
    baseline = monitor.baseline(reference)
    score = Score(windows)
    for w in windows:
        table = window_data(size, w)
        start = time.perf_counter()
        result = monitor.check(table, baseline)
        score.seconds += time.perf_counter() - start
        score.flags[w.id] = {f.name for f in result.drift if f.drift}
    return score


def run_streaming(size: int, windows: list[Window], reference: pa.Table, state: Path) -> Score:
    """ADWIN per stream over each stream's windows in order; a feature is flagged in a window
    when any of its detectors fires on that window's rows."""
    statistics = DataQualityMonitor(workers=1).baseline(reference).statistics
    score = Score(windows)
    streams: dict[str, list[Window]] = {}
    for w in windows:
        streams.setdefault(w.stream, []).append(w)
    for k, (name, members) in enumerate(streams.items()):
        monitor = StreamingMonitor("bench", f"s{k}", statistics, state)
        for w in sorted(members, key=lambda m: m.index):
            table = window_data(size, w)
            start = time.perf_counter()
            found = monitor.process(table, checkpoint=False)
            score.seconds += time.perf_counter() - start
            score.flags[w.id] = {d.feature for d in found.detections if d.feature}
        del name
    return score


def run_peer(
    tool: str, size: int, windows: list[Window], reference: pa.Table, workdir: Path
) -> Score | None:
    python = VENVS / tool / "bin" / "python"
    if not python.exists():
        print(f"  {tool}: no venv at {python.parent.parent}; skipped", flush=True)
        return None
    ref_path, win_path = workdir / f"ref-{size}.parquet", workdir / f"win-{size}-{tool}.parquet"
    if not ref_path.exists():
        pq.write_table(reference, ref_path)
    parts = []
    for w in windows:
        t = window_data(size, w)
        parts.append(t.append_column("__window", pa.array(np.full(size, w.id, dtype=np.int64))))
    pq.write_table(pa.concat_tables(parts), win_path)
    env = {**os.environ, "DO_NOT_TRACK": "1", "NML_DISABLE_USAGE_LOGGING": "1"}
    cmd = [str(python), str(PEERS / f"detection_{tool}.py"), "--reference", str(ref_path)]
    cmd += ["--windows", str(win_path), "--window-rows", str(size)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        print(f"  {tool} failed:\n{done.stderr[-2000:]}", flush=True)
        return None
    line = done.stdout.strip().splitlines()[-1]
    result = json.loads(line)
    score = Score(windows, seconds=result["seconds"])
    score.flags = {int(k): set(v) for k, v in result["flags"].items()}
    return score


# -- sections beyond per-feature drift -----------------------------------------------------------


def correlated(rng: np.random.Generator, rows: int, rho: float) -> np.ndarray:
    """Four standard normals: (x0, x1) and (x2, x3) correlated by ``rho``; marginals fixed."""
    z = rng.standard_normal((rows, 4))
    z[:, 1] = rho * z[:, 0] + math.sqrt(1 - rho * rho) * z[:, 1]
    z[:, 3] = rho * z[:, 2] + math.sqrt(1 - rho * rho) * z[:, 3]
    return z


def multivariate_section(sizes: list[int], null_windows: int, drift_windows: int) -> dict[str, Any]:
    """A broken correlation (0.8 -> 0.4 and 0.8 -> 0): invisible per feature."""
    out: dict[str, Any] = {}
    groups = ["x0", "x1", "x2", "x3"]
    reference = correlated(np.random.default_rng(1), 5000, 0.8)
    methods: dict[str, Callable[[np.ndarray, np.ndarray, int], bool]] = {
        "domain_classifier": lambda r, c, s: mv.domain_classifier(r, c, groups, seed=s).drift,
        "pca": lambda r, c, s: mv.pca_reconstruction(r, c, seed=s).drift,
        "mmd": lambda r, c, s: mv.mmd_test(r, c, seed=s).drift,
    }
    for size in sizes:
        row: dict[str, Any] = {}
        for name, method in methods.items():
            start = time.perf_counter()
            alarms = sum(
                method(reference, correlated(np.random.default_rng([size, i, 2]), size, 0.8), i)
                for i in range(null_windows)
            )
            cells = {
                "false_alarm_windows": null_windows,
                "false_alarms": alarms,
                "false_alarm_rate": alarms / null_windows,
            }
            for rho in (0.4, 0.0):
                hits = sum(
                    method(reference, correlated(np.random.default_rng([size, i, 3]), size, rho), i)
                    for i in range(drift_windows)
                )
                cells[f"detected_rho_{rho:g}"] = hits / drift_windows
            cells["seconds_per_window"] = round(
                (time.perf_counter() - start) / (null_windows + 2 * drift_windows), 3
            )
            row[name] = cells
        out[str(size)] = row
        print(f"  multivariate {size}: {json.dumps(row)}", flush=True)
    return out


def error_stream_section(records: int = 100_000) -> dict[str, Any]:
    """Detectors on a 0/1 error stream: false alarms per 10,000 records at a steady 10% error
    rate, and the delay to notice 10% -> 20% (mean over seeds, in records)."""
    factories: dict[str, Callable[[], Any]] = {
        "adwin": Adwin,
        "ddm": Ddm,
        "eddm": Eddm,
        "page_hinkley": lambda: PageHinkley(delta=0.005, threshold=50.0),
        "kswin": lambda: Kswin(seed=0),
    }
    out: dict[str, Any] = {}
    for name, make in factories.items():
        alarms = 0
        for seed in range(3):
            d = make()
            flags = (np.random.default_rng(seed).random(records) < 0.1).astype(float)
            alarms += sum(d.update(x) for x in flags.tolist())
        delays = []
        for seed in range(10):
            d = make()
            rng = np.random.default_rng(100 + seed)
            before = (rng.random(5000) < 0.1).astype(float)
            after = (rng.random(20_000) < 0.2).astype(float)
            for x in before.tolist():
                d.update(x)
            hit = next((i for i, x in enumerate(after.tolist()) if d.update(x)), None)
            delays.append(hit)
        found = [x for x in delays if x is not None]
        out[name] = {
            "false_alarms_per_10k_records": round(alarms / (3 * records) * 10_000, 3),
            "detected": f"{len(found)}/{len(delays)}",
            "median_delay_records": float(np.median(found)) if found else None,
        }
        print(f"  error stream {name}: {out[name]}", flush=True)
    return out


# -- the run -------------------------------------------------------------------------------------


def design(size: int, quick: bool) -> tuple[int, int, tuple[float, ...], tuple[str, ...]]:
    """Drift-free windows, seeds, effects and scenarios per size: many windows while they are
    small, fewer as they grow (the largest size gets what fits in about five minutes)."""
    if quick:
        return 10, 1, EFFECTS, tuple(SCENARIOS)
    if size >= 10_000_000:
        return 6, 1, (0.1, 0.15, 0.2), ("abrupt",)
    null, seeds = {100: (200, 5), 1000: (200, 5), 10_000: (100, 3), 100_000: (40, 1)}.get(
        size, (20, 1)
    )
    return null, seeds, EFFECTS, tuple(SCENARIOS)


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = load()
    meta = results.setdefault("meta", {})
    meta.update(
        {
            "date": dt.date.today().isoformat(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
            "effects": list(EFFECTS),
            "scenarios": SCENARIOS,
            "largest_window": max([*args.sizes, meta.get("largest_window", 0)]),
        }
    )
    meta.setdefault("reference_rows", {}).update({str(s): reference_rows(s) for s in args.sizes})
    tools = results.setdefault("tools", {})
    with tempfile.TemporaryDirectory(prefix="modelmon-detection-") as tmp:
        workdir = Path(tmp)
        for size in args.sizes:
            null_windows, seeds, effects, scenarios = design(size, args.quick)
            windows = plan(size, null_windows, seeds, effects, scenarios)
            print(f"size {size}: {len(windows)} windows", flush=True)
            reference = reference_data(size)
            start = time.perf_counter()
            score = run_modelmon(size, windows, reference)
            summary = score.summary(FEATURES)
            summary["wall_seconds"] = round(time.perf_counter() - start, 1)
            tools.setdefault("modelmon", {})[str(size)] = summary
            _show("modelmon", size, summary)
            if size <= args.variant_max_rows:
                # What a lower threshold buys: smaller shifts, at the same false-alarm control.
                variant = run_modelmon(size, windows, reference, threshold=0.05).summary(FEATURES)
                tools.setdefault("modelmon-t0.05", {})[str(size)] = variant
                _show("modelmon-t0.05", size, variant)
            if size in STREAM_SIZES and not args.no_streaming:
                # Pure Python, about 30 streams: the first 40 drift-free windows and one seed.
                s_windows = [
                    w
                    for w in windows
                    if (w.scenario == "null" and w.index < 40)
                    or (w.scenario == "abrupt" and w.seed == 0)
                ]
                stream = run_streaming(size, s_windows, reference, workdir / "state")
                summary = stream.summary(FEATURES)
                tools.setdefault("modelmon-streaming", {})[str(size)] = summary
                _show("modelmon-streaming", size, summary)
            for tool in args.peers:
                if size > args.peer_max_rows:
                    continue
                p_windows = windows
                if tool == "evidently":  # about a second per report: fewer windows
                    p_windows = plan(size, 30, 1, (0.05, 0.1, 0.2, 0.3), ("abrupt",))
                score_or_none = run_peer(tool, size, p_windows, reference, workdir)
                if score_or_none is not None:
                    summary = score_or_none.summary(FEATURES)
                    tools.setdefault(tool, {})[str(size)] = summary
                    _show(tool, size, summary)
            save(results)
    if args.sections:
        m_sizes = [s for s in args.sizes if s <= 10_000]
        results["multivariate"] = multivariate_section(m_sizes, 20 if not args.quick else 5, 10)
        results["error_streams"] = error_stream_section(30_000 if args.quick else 100_000)
    # The distance a feature must exceed at each size: the threshold plus the noise allowance.
    results.setdefault("modelmon_detectable_effect", {}).update(
        {str(s): round(0.1 + critical_distance(reference_rows(s), s), 4) for s in args.sizes}
    )
    save(results)
    return results


def load() -> dict[str, Any]:
    if RESULTS.exists():
        loaded: dict[str, Any] = json.loads(RESULTS.read_text())
        return loaded
    return {}


def save(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def _show(tool: str, size: int, summary: dict[str, Any]) -> None:
    fa = summary["false_alarms"]
    print(
        f"  {tool:20s} w={size:>9,}: false alarms {fa['alarms']}/{fa['feature_windows']} "
        f"({100 * (fa['rate'] or 0):.2f}%, 95% upper {100 * (fa['upper95'] or 0):.2f}%), "
        f"always detected from {summary['always_detected_from']}, {summary['seconds']} s",
        flush=True,
    )


def table(results: dict[str, Any]) -> Iterator[str]:
    """Markdown: false alarms and detection per tool and window size."""
    yield (
        "| tool | window rows | false alarms (feature-windows) | 95% upper | always detected "
        "from D, abrupt (num / cat) | gradual | recurring | D=0.2 abrupt: detected (delay) |"
    )
    yield "|---|---:|---:|---:|---|---|---|---|"
    for tool, sizes in results.get("tools", {}).items():
        for size in sorted(sizes, key=int):
            s = sizes[size]
            fa = s["false_alarms"]
            frm = s["always_detected_from"]
            cell = s["detection"].get("abrupt", {}).get("0.2", {})
            d02 = ", ".join(
                f"{k[:3]} {100 * v['rate']:.0f}% ({v['mean_delay_windows']})"
                for k, v in cell.items()
            )
            yield (
                f"| {tool} | {int(size):,} | {fa['alarms']}/{fa['feature_windows']} "
                f"({100 * fa['rate']:.2f}%) | {100 * fa['upper95']:.2f}% | "
                f"{_pair(frm, 'abrupt')} | {_pair(frm, 'gradual')} | {_pair(frm, 'recurring')} | "
                f"{d02 or '-'} |"
            )


def _pair(frm: dict[str, float | None], scenario: str) -> str:
    if f"{scenario}/numeric" not in frm:
        return "-"
    return f"{_d(frm[f'{scenario}/numeric'])} / {_d(frm[f'{scenario}/categorical'])}"


def _d(value: float | None) -> str:
    return "never" if value is None else f"{value:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--peers", nargs="*", default=["nannyml", "evidently"])
    parser.add_argument("--peer-max-rows", type=int, default=10_000)
    parser.add_argument("--no-streaming", action="store_true")
    parser.add_argument("--variant-max-rows", type=int, default=100_000)
    parser.add_argument("--no-sections", dest="sections", action="store_false")
    parser.add_argument("--quick", action="store_true", help="few windows: a smoke test")
    parser.add_argument("--table", action="store_true", help="print the stored results")
    args = parser.parse_args()
    if args.peers == ["none"]:
        args.peers = []
    results = load() if args.table else run(args)
    print("\n".join(table(results)))


if __name__ == "__main__":
    sys.exit(main())
