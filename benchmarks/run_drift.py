"""Data-quality drift benchmark: modelmon side by side with its peers and a numpy floor.

    .venv/bin/python benchmarks/run_drift.py                        # 100k and 1M rows, 3 repeats
    .venv/bin/python benchmarks/run_drift.py --sizes 10000000       # 10M: slow peers skipped
    .venv/bin/python benchmarks/run_drift.py --sizes 100000 --repeat 1 --tools numpy_floor scipy
    .venv/bin/python benchmarks/run_drift.py --table                # table of the stored results

Generates the data if missing (benchmarks/generate.py), runs every tool as its own process(es)
``--repeat`` times (interleaved, so VM drift hits every tool alike), measures wall time and
peak RSS of each whole process from here (os.wait4), scores the flagged columns against
truth.json, writes benchmarks/results/drift-<date>.json (a later run on the same day replaces
only the tool/size pairs it measured) and prints a markdown table.

Peers run from their own venvs (benchmarks/setup_peers.sh). modelmon runs as two processes,
as a user would: ``modelmon data-quality baseline`` then ``modelmon data-quality check``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generate import generate

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
LOGS = HERE / "data" / "logs"

# tool -> venv holding it (under benchmarks/.venvs)
PEERS = {
    "numpy_floor": "numpy",
    "scipy": "numpy",
    "nannyml": "nannyml",
    "alibi_detect": "alibi_detect",
    "evidently": "evidently",
    "whylogs": "whylogs",
}
# modelmon with SageMaker's default threshold (0.1), and with a lower one to show what it buys.
MODELMON_VARIANTS: dict[str, list[str]] = {
    "modelmon": [],
    "modelmon-t0.05": ["--comparison-threshold", "0.05"],
}
TOOLS = [*MODELMON_VARIANTS, *PEERS]
SLOW = {"evidently", "whylogs", "alibi_detect"}  # skipped above --slow-max-rows
PACKAGES = {
    "nannyml": "nannyml",
    "alibi_detect": "alibi-detect",
    "evidently": "evidently",
    "whylogs": "whylogs",
    "scipy": "scipy",
    "numpy_floor": "numpy",
}
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",  # evidently
    "ITERATIVE_DO_NOT_TRACK": "1",  # iterative_telemetry, used by evidently
    "NML_DISABLE_USAGE_LOGGING": "1",  # nannyml
    "WHYLOGS_NO_ANALYTICS": "True",  # whylogs
}


@dataclass
class Proc:
    """One finished child process."""

    wall_s: float
    peak_rss_mb: float
    exit_code: int
    stdout: str


def run_process(cmd: list[str], log: Path, timeout: float) -> Proc:
    """Run ``cmd``, stdout kept, stderr to ``log``; wall time and peak RSS from os.wait4."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **TELEMETRY_OFF}
    out_path = log.with_suffix(".out")
    with out_path.open("w") as out, log.open("w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, start_new_session=True)

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    return Proc(wall, usage.ru_maxrss / 1024, proc.returncode, out_path.read_text())


def last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    raise ValueError("no JSON result line")


def run_peer(tool: str, data: Path, log: Path, timeout: float) -> dict[str, Any]:
    python = VENVS / PEERS[tool] / "bin" / "python"
    if not python.exists():
        return {"skipped": f"no venv {python.parent.parent}: run benchmarks/setup_peers.sh"}
    script = HERE / "peers" / f"peer_{tool}.py"
    cmd = [
        str(python),
        str(script),
        "--reference",
        str(data / "reference.parquet"),
        "--current",
        str(data / "current.parquet"),
    ]
    p = run_process(cmd, log, timeout)
    if p.exit_code != 0:
        return {"error": f"exit {p.exit_code}, see {log}", "wall_s": p.wall_s}
    result = last_json_line(p.stdout)
    result["self_peak_rss_mb"] = result.pop("peak_rss_mb")
    return {**result, "wall_s": p.wall_s, "peak_rss_mb": p.peak_rss_mb}


def modelmon_missing(exe: str) -> str | None:
    """Why ``exe data-quality`` cannot run, or None when it can."""
    if not Path(exe).exists():
        return f"modelmon command not found ({exe})"
    probe = subprocess.run(
        [exe, "data-quality", "--help"], capture_output=True, text=True, timeout=120
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`modelmon data-quality --help` failed: {last}"
    return None


def run_modelmon(
    exe: str, data: Path, log: Path, timeout: float, tool: str = "modelmon"
) -> dict[str, Any]:
    work = data / f"{tool}-out"
    shutil.rmtree(work, ignore_errors=True)
    base_log, check_log = (log.with_name(f"{log.stem}-{s}.log") for s in ("baseline", "check"))
    base = run_process(
        [
            exe,
            "data-quality",
            "baseline",
            "--dataset",
            str(data / "reference.parquet"),
            "--output",
            str(work / "baseline"),
            *MODELMON_VARIANTS[tool],
        ],
        base_log,
        timeout,
    )
    if base.exit_code != 0:
        return {"error": f"baseline exit {base.exit_code}, see {base_log}", "wall_s": base.wall_s}
    check = run_process(
        [
            exe,
            "data-quality",
            "check",
            "--dataset",
            str(data / "current.parquet"),
            "--baseline",
            str(work / "baseline"),
            "--output",
            str(work / "report"),
        ],
        check_log,
        timeout,
    )
    if check.exit_code not in (0, 1):  # 1 = violations found, expected here
        return {"error": f"check exit {check.exit_code}, see {check_log}", "wall_s": check.wall_s}
    report_path = work / "report" / "constraint_violations.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    violations = report.get("violations", []) if isinstance(report, dict) else report
    flagged = sorted(
        {
            v["feature_name"]
            for v in violations
            if v.get("constraint_check_type") == "baseline_drift_check"
        }
    )
    return {
        "tool": tool,
        "flagged": flagged,
        "baseline_s": base.wall_s,
        "check_s": check.wall_s,
        "check_exit": check.exit_code,
        "wall_s": base.wall_s + check.wall_s,
        "peak_rss_mb": max(base.peak_rss_mb, check.peak_rss_mb),
    }


def summarize(
    tool: str, rows: int, runs: list[dict[str, Any]], truth: dict[str, Any]
) -> dict[str, Any]:
    ok = [r for r in runs if "wall_s" in r and "error" not in r]
    summary: dict[str, Any] = {
        "tool": tool,
        "rows": rows,
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": runs,
    }
    if not ok:
        summary["status"] = next((r.get("skipped") or r.get("error") for r in runs), "no runs")
        return summary
    drifted, undrifted = set(truth["drifted"]), set(truth["undrifted"])
    flagged = [set(r["flagged"]) for r in ok]

    def span(values: list[float]) -> list[float] | None:
        return [round(min(values), 3), round(max(values), 3)] if values else None

    summary.update(
        {
            "status": "ok",
            "wall_s": span([r["wall_s"] for r in ok]),
            # load + drift, as timed inside the peer script (not for modelmon)
            "compute_s": span([r["total_s"] for r in ok if "total_s" in r]),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in ok), 1),
            "n_drifted": len(drifted),
            "n_undrifted": len(undrifted),
            # per run, then the union over runs of the columns concerned
            "flagged_drifted_counts": [len(f & drifted) for f in flagged],
            "flagged_undrifted_counts": [len(f & undrifted) for f in flagged],
            "missed_drifted": sorted(set.union(*(drifted - f for f in flagged))),
            "flagged_undrifted": sorted(set.union(*(f & undrifted for f in flagged))),
            "per_column": ok[0].get("per_column"),  # first run
        }
    )
    for r in runs:
        r.pop("per_column", None)
    return summary


def fmt_span(span: list[float] | None, fmt: str = ".2f") -> str:
    if not span:
        return "–"
    lo, hi = min(span), max(span)
    return f"{lo:{fmt}}" if lo == hi else f"{lo:{fmt}}–{hi:{fmt}}"


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| tool | rows | whole process s (min–max) | load+drift s | peak RSS MB "
        "| × floor | drifted flagged | undrifted flagged |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    floors = {
        r["rows"]: r["wall_s"][0]
        for r in results
        if r["tool"] == "numpy_floor" and r.get("status") == "ok"
    }
    for r in results:
        rows = f"{r['rows']:,}"
        if r.get("status") != "ok":
            lines.append(f"| {r['tool']} | {rows} | {r.get('status')} | | | | | |")
            continue
        floor = floors.get(r["rows"])
        ratio = f"{r['wall_s'][0] / floor:.1f}" if floor else "–"
        if r["tool"] == "numpy_floor":
            drifted_s = undrifted_s = "n/a"
        else:
            drifted_s = f"{fmt_span(r['flagged_drifted_counts'], 'd')}/{r['n_drifted']}"
            if r["missed_drifted"]:
                drifted_s += " (missed " + ", ".join(r["missed_drifted"]) + ")"
            undrifted_s = f"{fmt_span(r['flagged_undrifted_counts'], 'd')}/{r['n_undrifted']}"
            if 0 < len(r["flagged_undrifted"]) <= 4:
                undrifted_s += " (" + ", ".join(r["flagged_undrifted"]) + ")"
        lines.append(
            f"| {r['tool']} | {rows} | {fmt_span(r['wall_s'])} | {fmt_span(r['compute_s'])} "
            f"| {r['peak_rss_mb']:,.0f} | {ratio} | {drifted_s} | {undrifted_s} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    commit = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "git_commit": commit,
    }


def versions() -> dict[str, str]:
    found = {}
    for tool, pkg in PACKAGES.items():
        freeze = VENVS / PEERS[tool] / ".installed"
        if freeze.exists():
            for line in freeze.read_text().splitlines():
                if line.lower().startswith(pkg + "=="):
                    found[tool] = line.split("==", 1)[1]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=TOOLS)
    parser.add_argument(
        "--slow-max-rows",
        type=int,
        default=1_000_000,
        help=f"skip {', '.join(sorted(SLOW))} above this many rows",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per process")
    parser.add_argument(
        "--modelmon",
        default=shutil.which("modelmon") or str(HERE.parent / ".venv" / "bin" / "modelmon"),
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS / f"drift-{dt.date.today().isoformat()}.json"
    )
    parser.add_argument(
        "--table",
        action="store_true",
        help="only print the markdown table of every result stored in --out",
    )
    args = parser.parse_args()
    if args.table:
        print(markdown(json.loads(args.out.read_text())["results"]))
        return
    wanted = any(t in MODELMON_VARIANTS for t in args.tools)
    modelmon_skip = modelmon_missing(args.modelmon) if wanted else None
    if modelmon_skip:
        print(f"skipping modelmon: {modelmon_skip}", file=sys.stderr)

    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results: list[dict[str, Any]] = []
    for rows in args.sizes:
        data = generate(rows)
        truth = json.loads((data / "truth.json").read_text())
        tools = [t for t in args.tools if rows <= args.slow_max_rows or t not in SLOW]
        runs: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
        for rep in range(args.repeat):
            for tool in tools:
                if runs[tool] and runs[tool][-1].get("skipped"):
                    continue  # no point repeating a skip
                log = LOGS / str(rows) / f"{tool}-{rep}.log"
                print(
                    f"[{rows:,} rows, run {rep + 1}/{args.repeat}] {tool} ...",
                    end=" ",
                    flush=True,
                    file=sys.stderr,
                )
                load_before = round(os.getloadavg()[0], 2)  # others using the machine?
                if tool in MODELMON_VARIANTS and modelmon_skip:
                    r = {"skipped": modelmon_skip}
                elif tool in MODELMON_VARIANTS:
                    r = run_modelmon(args.modelmon, data, log, args.timeout, tool)
                else:
                    r = run_peer(tool, data, log, args.timeout)
                r["loadavg_1m_before"] = load_before
                runs[tool].append(r)
                note = r.get("skipped") or r.get("error")
                print(
                    note or f"{r['wall_s']:.2f} s, {r['peak_rss_mb']:,.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
        results += [summarize(t, rows, runs[t], truth) for t in tools]
        write(args.out, started, results)
    print(markdown(results))
    print(f"\nwritten {args.out}", file=sys.stderr)


def write(path: Path, started: str, results: list[dict[str, Any]]) -> None:
    """Write ``results`` into ``path``, keeping earlier results for other tools/sizes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = {(r["tool"], r["rows"]) for r in results}
    kept = []
    if path.exists():
        kept = [
            r for r in json.loads(path.read_text())["results"] if (r["tool"], r["rows"]) not in new
        ]
    results = sorted(kept + results, key=lambda r: (r["rows"], TOOLS.index(r["tool"])))
    doc = {
        "benchmark": "data-quality drift",
        "last_started": started,
        "machine": machine(),
        "versions": versions(),
        "results": results,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    main()
