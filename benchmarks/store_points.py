"""Metric-point store benchmark: write throughput and the reads the dashboard and /metrics make.

A year of hourly points for 1,000 features (8.76M points) is written in one-day batches, then:
one feature's year (8,760 points), all 1,000 features over one day (a regex matcher, 24,000
points), and latest_points over all series (what /metrics reads). Reads are repeated and the
median and range reported (timing noise on shared machines reaches 2x).

    .venv/bin/python benchmarks/store_points.py                      # SQLite only
    export MODELMON_TEST_POSTGRES_URI="$(.ci/postgres.sh start)"
    .venv/bin/python benchmarks/store_points.py                      # SQLite and PostgreSQL
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from modelmon.store import Matcher, Point, Store, open_store

T0 = datetime(2025, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@contextmanager
def sqlite_uri() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{directory}/bench.db"


@contextmanager
def postgres_uri(base: str) -> Iterator[str]:
    url = make_url(base)
    admin = create_engine(url.set(drivername="postgresql+psycopg"))
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def write(store: Store, features: int, hours: int) -> float:
    names = [f"f{i:04d}" for i in range(features)]
    started = time.perf_counter()
    for day in range(0, hours, 24):
        store.metrics.write_points(
            Point(
                "feature_baseline_drift",
                {"model": "churn", "version": "1", "monitor": "DataQuality", "feature": name},
                (i * 7 + hour) % 100 / 100,
                T0 + hour * HOUR,
            )
            for hour in range(day, min(day + 24, hours))
            for i, name in enumerate(names)
        )
    return time.perf_counter() - started


def timed(read: Callable[[], int], repeat: int) -> tuple[list[float], int]:
    seconds, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = read()
        seconds.append(time.perf_counter() - started)
    return seconds, count


def run(backend: str, uri: str, features: int, hours: int, repeat: int) -> list[list[str]]:
    with open_store(uri, migrate=True) as store:
        if store.engine.dialect.name == "postgresql":
            with store.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        elapsed = write(store, features, hours)
        if store.engine.dialect.name == "postgresql":
            with store.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        total = features * hours
        rows = [
            [
                backend,
                f"write {total:,} points (1-day batches)",
                f"{elapsed:.1f} s",
                "-",
                f"{total / elapsed:,.0f} points/s",
            ]
        ]
        end = T0 + hours * HOUR
        middle = T0 + (hours // 2) * HOUR
        reads: dict[str, Callable[[], int]] = {
            "one feature, whole range": lambda: sum(
                len(s.values)
                for s in store.metrics.query_points(
                    "feature_baseline_drift", {"feature": "f0500"}, start=T0, end=end
                )
            ),
            "all features (regex), one day": lambda: sum(
                len(s.values)
                for s in store.metrics.query_points(
                    "feature_baseline_drift",
                    {"model": "churn", "feature": Matcher("=~", "f.*")},
                    start=middle,
                    end=middle + 24 * HOUR,
                )
            ),
            "latest_points (all series)": lambda: len(store.metrics.latest_points()),
        }
        for label, read in reads.items():
            seconds, count = timed(read, repeat)
            rows.append(
                [
                    backend,
                    f"{label}: {count:,} points",
                    f"{statistics.median(seconds) * 1000:.1f} ms",
                    f"{min(seconds) * 1000:.1f}-{max(seconds) * 1000:.1f} ms",
                    "",
                ]
            )
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=1_000)
    parser.add_argument("--hours", type=int, default=8_760)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    table: list[list[str]] = []
    with sqlite_uri() as uri:
        table += run("sqlite", uri, args.features, args.hours, args.repeat)
    postgres = os.environ.get("MODELMON_TEST_POSTGRES_URI")
    if postgres:
        with postgres_uri(postgres) as uri:
            table += run("postgresql", uri, args.features, args.hours, args.repeat)
    else:
        print("PostgreSQL skipped: set MODELMON_TEST_POSTGRES_URI (see .ci/postgres.sh)")

    header = ["backend", "operation", "median", "range", "throughput"]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *table]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
