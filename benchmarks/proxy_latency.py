"""Capture proxy latency: what ``modelmon proxy`` adds to a model server's response time.

    .venv/bin/python benchmarks/proxy_latency.py      # 500 req/s, 24 s measured per target
    .venv/bin/python benchmarks/proxy_latency.py --rate 1000 --sampling-percentage 0

Starts, all on 127.0.0.1 and each as its own process:

* an **upstream** model server (aiohttp) answering ``POST /predict`` with a JSON score after about
  1 ms: it parses the JSON features, scores them, and waits 1 ms (a sleep, not CPU, so the three
  processes sharing the machine's cores measure the proxy rather than their fight for the CPU);
* **the proxy**, exactly as a user starts it: ``modelmon proxy --upstream ... --data-dir TMP``,
  capturing 100% of the inferences to Parquet (its event loop is uvloop's if uvloop is
  installed, as the result file records).

This process is the **load generator**: open loop at a fixed rate (request i is sent at
``start + i / rate`` whether or not earlier ones have answered) over keep-alive connections, with a
minimal HTTP/1.1 client so that it takes little of the CPU the servers under test need. Each
latency runs from the send to the last byte of the response; how late the generator sent (its
scheduling lag) is reported on its own. It warms both targets up (not measured), then alternates
short direct and proxied rounds (2 s each by default), so the load of anything else running on
the machine hits both alike. Reports p50/p90/p99/p99.9/max per target and the difference
("added"), the CPU time per request of the proxy and of its capture process, and checks that the
proxy captured every request. Writes benchmarks/results/proxy-latency-<date>.json and
prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
FEATURES = 20
BODY = json.dumps({"features": [round(0.05 * i, 2) for i in range(FEATURES)]}).encode()
WEIGHTS = [0.01 * (i % 7 - 3) for i in range(FEATURES)]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LEAD_IN_SECONDS = 0.25


# -- the upstream model server (run as its own process: ``proxy_latency.py upstream``) ---------


def run_upstream(port: int, model_ms: float) -> None:
    async def predict(request: web.Request) -> web.Response:
        features = json.loads(await request.read())["features"]
        score = 1.0 / (1.0 + math.exp(-sum(w * x for w, x in zip(WEIGHTS, features, strict=True))))
        await asyncio.sleep(model_ms / 1000.0)
        return web.json_response({"score": round(score, 6)})

    app = web.Application()
    app.router.add_post("/predict", predict)
    print(f"upstream listening on http://127.0.0.1:{port}", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    command: list[str], pattern: str, timeout: float = 60.0
) -> tuple[subprocess.Popen[str], str]:
    """Start ``command`` and wait (bounded) for a stdout line matching ``pattern``."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(pattern, line)
        if match:
            return process, match.group(1)
    process.kill()
    raise SystemExit(f"{command[:4]} did not start: no line matching {pattern!r}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_of(pids: list[int]) -> list[float]:
    return [cpu_seconds(pid) for pid in pids]


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


# -- the load generator ---------------------------------------------------------------------


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, parsing just enough of the
    response (status, Content-Length) to find its end: far cheaper than a full client, so the
    generator takes little of the CPU the servers under test need."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.end: int | None = None
        self.status = 0
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.end is None:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).lower()
            self.status = int(head[9:12])
            length = re.search(rb"\r\ncontent-length: *(\d+)", head)
            self.end = head_end + 4 + (int(length.group(1)) if length else 0)
        if len(self.buffer) >= self.end:
            del self.buffer[: self.end]
            self.end = None
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(self.status)

    def connection_lost(self, error: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    async def request(self, message: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(message)
        return await self.waiter


class Pool:
    """Keep-alive connections to one server, opened as the load needs them."""

    def __init__(self, url: str) -> None:
        address = url.removeprefix("http://").split("/", 1)[0]
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.idle: list[Connection] = []
        self.message = (
            f"POST /predict HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\n\r\n"
        ).encode() + BODY

    async def predict(self) -> int:
        if self.idle:
            connection = self.idle.pop()
        else:
            loop = asyncio.get_running_loop()
            _, connection = await loop.create_connection(Connection, self.host, self.port)
        status = await connection.request(self.message)
        self.idle.append(connection)
        return status

    def close(self) -> None:
        for connection in self.idle:
            if connection.transport is not None:
                connection.transport.close()


async def fire(pool: Pool, rate: float, seconds: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Open-loop load: latencies (ms, from the send), generator lag (ms) and the error count."""
    count = int(rate * seconds)
    latencies = np.full(count, np.nan)
    lags = np.zeros(count)
    errors = 0

    async def one(index: int, due: float) -> None:
        nonlocal errors
        sent = time.perf_counter()
        lags[index] = (sent - due) * 1000.0
        try:
            status = await pool.predict()
        except OSError:
            errors += 1
            return
        if status != 200:
            errors += 1
            return
        latencies[index] = (time.perf_counter() - sent) * 1000.0

    tasks = set()
    begin = time.perf_counter() + 0.01
    for index in range(count):
        due = begin + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    return latencies[~np.isnan(latencies)], lags, errors


def summary(latencies: np.ndarray) -> dict[str, float]:
    quantiles = np.percentile(latencies, [50, 90, 99, 99.9]) if len(latencies) else [math.nan] * 4
    return {
        "p50_ms": round(float(quantiles[0]), 3),
        "p90_ms": round(float(quantiles[1]), 3),
        "p99_ms": round(float(quantiles[2]), 3),
        "p999_ms": round(float(quantiles[3]), 3),
        "max_ms": round(float(latencies.max()), 3) if len(latencies) else math.nan,
        "mean_ms": round(float(latencies.mean()), 3) if len(latencies) else math.nan,
    }


async def measure(
    args: argparse.Namespace, direct: str, proxied: str, proxy_pid: int
) -> dict[str, Any]:
    targets = {"direct": direct + "/predict", "proxied": proxied + "/predict"}
    results: dict[str, dict[str, Any]] = {
        name: {"latencies": [], "lags": [], "errors": 0, "requests": 0} for name in targets
    }
    # The proxy's process, and its capture process (the writer), measured apart.
    processes = [proxy_pid, *children(proxy_pid)]
    proxy_cpu = [0.0] * len(processes)
    pools = {name: Pool(url) for name, url in targets.items()}
    try:
        for name in targets:
            print(f"warm-up: {name}, {args.warmup:g} s at {args.rate:g} req/s", flush=True)
            await fire(pools[name], args.rate, args.warmup)
        for round_ in range(args.rounds):
            for name in targets:
                # A short unmeasured lead-in: the target was idle during the other's round.
                await fire(pools[name], args.rate, LEAD_IN_SECONDS)
                cpu_before = cpu_of(processes)
                latencies, lags, errors = await fire(pools[name], args.rate, args.seconds)
                if name == "proxied":
                    for index, (after, before) in enumerate(
                        zip(cpu_of(processes), cpu_before, strict=True)
                    ):
                        proxy_cpu[index] += after - before
                result = results[name]
                result["latencies"].append(latencies)
                result["lags"].append(lags)
                result["errors"] += errors
                result["requests"] += int(args.rate * args.seconds)
                p50, p99 = np.percentile(latencies, [50, 99])
                print(
                    f"round {round_ + 1}/{args.rounds} {name:8s} p50 {p50:.3f} ms  "
                    f"p99 {p99:.3f} ms  errors {errors}",
                    flush=True,
                )
    finally:
        for pool in pools.values():
            pool.close()
    report: dict[str, Any] = {}
    for name, result in results.items():
        latencies = np.concatenate(result["latencies"])
        lags = np.concatenate(result["lags"])
        report[name] = {
            "requests": result["requests"],
            "errors": result["errors"],
            **summary(latencies),
            "generator_lag_p99_ms": round(float(np.percentile(lags, 99)), 3),
        }
    report["added"] = {
        key: round(report["proxied"][key] - report["direct"][key], 3)
        for key in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "mean_ms")
    }
    per_request = [cpu / max(1, report["proxied"]["requests"]) * 1e6 for cpu in proxy_cpu]
    report["proxy_cpu_us_per_request"] = round(per_request[0], 1)
    report["capture_process_cpu_us_per_request"] = round(sum(per_request[1:]), 1)
    return report


def table(report: dict[str, Any]) -> str:
    rows = [
        "| target | requests | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("direct", "proxied"):
        r = report[name]
        rows.append(
            f"| {name} | {r['requests']} | {r['errors']} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} "
            f"| {r['p99_ms']:.2f} | {r['p999_ms']:.2f} | {r['max_ms']:.2f} |"
        )
    added = report["added"]
    rows.append(
        f"| **added** | | | **{added['p50_ms']:.2f}** | {added['p90_ms']:.2f} "
        f"| **{added['p99_ms']:.2f}** | {added['p999_ms']:.2f} | |"
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one measured round")
    parser.add_argument("--rounds", type=int, default=12, help="measured rounds per target")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per target")
    parser.add_argument("--model-ms", type=float, default=1.0, help="upstream time per predict")
    parser.add_argument(
        "--sampling-percentage", type=float, default=100.0, help="share the proxy captures"
    )
    parser.add_argument(
        "--output", type=Path, help="result JSON (default: results/proxy-latency-<date>.json)"
    )
    args = parser.parse_args()

    port = free_port()
    upstream, _ = start(
        [sys.executable, __file__, "upstream", str(port), str(args.model_ms)], r"listening on (\S+)"
    )
    direct = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="modelmon-proxy-bench-") as data_dir:
        proxy, proxied = start(
            [
                sys.executable,
                "-m",
                "modelmon.cli.main",
                "proxy",
                "--upstream",
                direct,
                "--model",
                "bench",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                data_dir,
                "--sampling-percentage",
                str(args.sampling_percentage),
            ],
            r"listening on (\S+?),",
        )
        load_before = os.getloadavg()
        try:
            report = asyncio.run(measure(args, direct, proxied, proxy.pid))
        finally:
            proxy.send_signal(signal.SIGTERM)
            stopped, _ = proxy.communicate(timeout=60)
            upstream.send_signal(signal.SIGINT)
            upstream.wait(timeout=30)
    captured = re.search(r"(\d+) inferences captured, (\d+) dropped", stopped)
    unmeasured = int(args.rate * args.warmup) + args.rounds * int(args.rate * LEAD_IN_SECONDS)
    sent = report["proxied"]["requests"] + unmeasured
    report["capture"] = {
        "requests_through_proxy": sent,
        "captured": int(captured.group(1)) if captured else None,
        "dropped": int(captured.group(2)) if captured else None,
    }
    report["setup"] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rate_per_s": args.rate,
        "measured_seconds_per_target": args.seconds * args.rounds,
        "rounds": args.rounds,
        "warmup_seconds_per_target": args.warmup,
        "upstream_model_ms": args.model_ms,
        "sampling_percentage": args.sampling_percentage,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "proxy_event_loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "platform": platform.platform(),
    }
    output = args.output or RESULTS / f"proxy-latency-{dt.date.today().isoformat()}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(report))
    print(
        f"\nCPU per request: proxy {report['proxy_cpu_us_per_request']} µs, capture process "
        f"{report['capture_process_cpu_us_per_request']} µs; captured "
        f"{report['capture']['captured']} of {sent} requests "
        f"({report['capture']['dropped']} dropped); generator lag p99: direct "
        f"{report['direct']['generator_lag_p99_ms']} ms, proxied "
        f"{report['proxied']['generator_lag_p99_ms']} ms; load average before "
        f"{report['setup']['load_average_before']}, after {report['setup']['load_average_after']}"
    )
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "upstream":
        run_upstream(int(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.exit(main())
