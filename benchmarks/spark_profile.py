"""The spark engine: profiling time and peak driver memory by rows and cores (Spark local mode).

    .venv/bin/python benchmarks/generate.py --rows 10000000           # data, if not there yet
    .venv/bin/python benchmarks/spark_profile.py --rows 1000000 10000000 --cores 1 2

For every (rows, cores) pair a fresh process starts a ``local[cores]`` session and profiles
``benchmarks/data/<rows>/reference.parquet`` (25 columns: 20 numeric, 5 string) twice with
``SparkEngine.profile`` (the first run includes starting the Python workers), then reports:

* wall time of session start and of each profile run, and rows per second of the warm run;
* peak memory of the driver: the Python process (its ``ru_maxrss``) and the JVM (``VmHWM``; in local
  mode that JVM also runs the executors, so it is an upper bound for a cluster's driver);
* CPU seconds (driver, JVM, Python workers) of the warm run, and rows per CPU-second;
* the local engine's time on the same file, for comparison (``--local``).

Writes benchmarks/results/spark-profile-<date>.json and prints a markdown table. Each pair runs
``--repeat`` times; the VM's timings vary up to 2x from run to run, so read ranges.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _jvm_peak_mb() -> float | None:
    for pid in _descendants(os.getpid()):
        try:
            if "java" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            continue
    return None


def _cpu_seconds() -> float:
    """CPU time of this process and everything under it (JVM, Python workers) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in [os.getpid(), *_descendants(os.getpid())]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def child(rows: int, cores: int, local: bool) -> dict[str, Any]:
    """One measurement in this process (run by the parent as a subprocess)."""
    from modelmon.engines.spark import SparkEngine

    path = DATA / str(rows) / "reference.parquet"
    started = time.perf_counter()
    engine = SparkEngine(master=f"local[{cores}]", conf={"spark.driver.memory": "2g"})
    spark = engine.spark()
    start_s = time.perf_counter() - started
    runs = []
    for _ in range(2):
        cpu = _cpu_seconds()
        began = time.perf_counter()
        _, profile = engine.profile(path)
        runs.append(time.perf_counter() - began)
        cpu = _cpu_seconds() - cpu
        assert profile.row_count == rows, profile.row_count
    partitions = spark.read.parquet(str(path)).rdd.getNumPartitions()
    result: dict[str, Any] = {
        "rows": rows,
        "cores": cores,
        "partitions": partitions,
        "session_start_s": round(start_s, 2),
        "profile_cold_s": round(runs[0], 2),
        "profile_warm_s": round(runs[1], 2),
        "rows_per_s_warm": round(rows / runs[1]),
        # CPU of driver, JVM and workers in the warm run: rows per CPU-second is what a core of
        # a cluster delivers, whatever else this shared VM was running at the time.
        "cpu_s_warm": round(cpu, 1),
        "rows_per_cpu_s": round(rows / cpu),
        "python_driver_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "jvm_peak_mb": round(_jvm_peak_mb() or 0.0),
    }
    engine.close()
    if local:
        from modelmon.engines.local import profile_dataset
        from modelmon.formats.datasets import open_dataset

        began = time.perf_counter()
        profile_dataset(open_dataset(path), workers=cores)
        result["local_engine_s"] = round(time.perf_counter() - began, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--local", action="store_true", help="also time the local engine")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.rows[0], args.cores[0], args.local)))
        return
    results = []
    for rows in args.rows:
        if not (DATA / str(rows) / "reference.parquet").exists():
            sys.exit(f"no data for {rows} rows: run benchmarks/generate.py --rows {rows}")
        for cores in args.cores:
            for _ in range(args.repeat):
                command = [sys.executable, __file__, "--child", "--rows", str(rows)]
                command += ["--cores", str(cores)] + (["--local"] if args.local else [])
                load = os.getloadavg()[0]
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                result["loadavg_1m_before"] = round(load, 2)
                results.append(result)
                print(json.dumps(result), file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    today = dt.date.today().isoformat()
    document = {
        "benchmark": "spark engine profile",
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }
    (RESULTS / f"spark-profile-{today}.json").write_text(json.dumps(document, indent=1) + "\n")
    print(
        "| rows | cores | partitions | start s | cold s | warm s | rows/s | rows/CPU-s "
        "| py MB | JVM MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['cores']} | {r['partitions']} | {r['session_start_s']} | "
            f"{r['profile_cold_s']} | {r['profile_warm_s']} | {r['rows_per_s_warm']:,} | "
            f"{r['rows_per_cpu_s']:,} | "
            f"{r['python_driver_peak_mb']} | {r['jvm_peak_mb']} |"
        )


if __name__ == "__main__":
    main()
