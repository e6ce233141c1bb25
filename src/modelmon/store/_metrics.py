"""Metric points: the time series every monitor result is recorded as.

A point is (name, labels, value, timestamp). Labels are stored once per series (``series``
table) and points refer to the series id, so reading one series over a time range is a single
range scan of the points primary key (series_id, time_us). Label matchers are applied in Python
to the series of one name (there are thousands, not millions), which makes regular-expression
matchers as cheap as exact ones and keeps JSON operators, which differ per database, out of SQL.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from modelmon.errors import ConfigError
from modelmon.store._records import Matcher, Point, Series
from modelmon.store._schema import points, series
from modelmon.store._types import from_micros, to_micros

__all__ = ["MetricStore"]

# Bound parameters per IN list; far below SQLite's 32,766 and PostgreSQL's 65,535 limits.
_IN_CHUNK = 500
# Rows per executemany call: big enough to amortise round trips, small enough for bounded memory.
_WRITE_BATCH = 10_000

_T = TypeVar("_T")
SeriesKey = tuple[str, str]  # (name, labels_hash)


def _batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _canonical(labels: Mapping[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError(
                f"Metric labels must map strings to strings. Got {key!r}: {value!r} instead."
            )
    return dict(sorted(labels.items()))


def _labels_hash(labels: dict[str, str]) -> str:
    text = json.dumps(labels, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _dialect_insert(connection: Connection, table: Any) -> Any:
    # Both databases spell "INSERT ... ON CONFLICT" the same way, but SQLAlchemy keeps the
    # construct per dialect.
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table)


def _matchers(matchers: Mapping[str, str | Matcher]) -> dict[str, Matcher]:
    """A plain string means equality."""
    return {
        label: matcher if isinstance(matcher, Matcher) else Matcher("=", matcher)
        for label, matcher in matchers.items()
    }


def _match(matchers: Mapping[str, Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels.get(label, "")) for label, m in matchers.items())


def _read_points(
    connection: Connection, ids: Iterable[int], start_us: int, end_us: int
) -> dict[int, tuple[list[datetime], list[float]]]:
    """The points in [start_us, end_us) of each series in ``ids``, oldest first, by series."""
    found: dict[int, tuple[list[datetime], list[float]]] = {i: ([], []) for i in ids}
    for chunk in _batches(found, _IN_CHUNK):
        rows = connection.execute(
            select(points.c.series_id, points.c.time_us, points.c.value)
            .where(
                points.c.series_id.in_(chunk),
                points.c.time_us >= start_us,
                points.c.time_us < end_us,
            )
            .order_by(points.c.series_id, points.c.time_us)
        )
        for series_id, time_us, value in rows:
            times, values = found[series_id]
            times.append(from_micros(time_us))
            values.append(_value(value))
    return found


def _value(stored: float | None) -> float:
    # SQLite stores NaN as NULL; the column is nullable for that reason only.
    return math.nan if stored is None else stored


class MetricStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def write_points(self, samples: Iterable[Point], *, execution_id: int | None = None) -> int:
        """Insert or overwrite points; a second write of the same series and timestamp wins.

        Returns the number of distinct (series, timestamp) points written.
        """
        labels_of: dict[SeriesKey, dict[str, str]] = {}
        # A batch holds many points of few series: hash each label set once.
        digests: dict[tuple[tuple[str, str], ...], str] = {}
        # Deduplicated here: PostgreSQL refuses an upsert that touches the same row twice.
        values: dict[tuple[SeriesKey, int], float] = {}
        for point in samples:
            if not isinstance(point.name, str) or not point.name:
                raise ConfigError(f"A metric name must be a non-empty string. Got {point.name!r}.")
            items = tuple(sorted(point.labels.items()))
            digest = digests.get(items)
            if digest is None:
                labels = _canonical(point.labels)
                digest = digests[items] = _labels_hash(labels)
                labels_of.setdefault((point.name, digest), labels)
            elif (point.name, digest) not in labels_of:
                labels_of[point.name, digest] = dict(items)
            values[(point.name, digest), to_micros(point.timestamp, "timestamp")] = float(
                point.value
            )
        if not values:
            return 0
        with self._engine.begin() as connection:
            ids = self._series_ids(connection, labels_of)
            statement = _dialect_insert(connection, points)
            statement = statement.on_conflict_do_update(
                index_elements=["series_id", "time_us"],
                set_={
                    "value": statement.excluded.value,
                    "execution_id": statement.excluded.execution_id,
                },
            )
            rows = (
                {
                    "series_id": ids[key],
                    "time_us": time_us,
                    "value": value,
                    "execution_id": execution_id,
                }
                for (key, time_us), value in values.items()
            )
            for batch in _batches(rows, _WRITE_BATCH):
                connection.execute(statement, batch)
        return len(values)

    def query_points(
        self,
        name: str,
        matchers: Mapping[str, str | Matcher] | None = None,
        *,
        start: datetime,
        end: datetime,
    ) -> list[Series]:
        """The series named ``name`` whose labels match, with their points in [start, end).

        A plain string matcher means equality; ``Matcher("=~", "age|income")`` and friends give
        PromQL's !=, =~ (fully anchored) and !~. Series are ordered by their labels; series
        without a point in the range are left out.
        """
        wanted = _matchers(matchers or {})
        start_us, end_us = to_micros(start, "start"), to_micros(end, "end")
        with self._engine.connect() as connection:
            candidates = connection.execute(
                select(series.c.id, series.c.labels).where(series.c.name == name)
            ).all()
            labels_of = {row.id: row.labels for row in candidates if _match(wanted, row.labels)}
            found = _read_points(connection, labels_of, start_us, end_us)
        collected = [
            Series(name, labels_of[series_id], tuple(times), tuple(vals))
            for series_id, (times, vals) in found.items()
            if times
        ]
        return sorted(collected, key=lambda s: sorted(s.labels.items()))

    def read_series(
        self,
        name_prefix: str,
        keep: Callable[[str, dict[str, str]], bool],
        *,
        start: datetime,
        end: datetime,
    ) -> list[Series]:
        """Every series whose name starts with ``name_prefix`` and that ``keep(name, labels)``
        accepts, with its points in [start, end) (none if it has none there).

        Alerting's read path: one rule over hundreds of series (``feature_baseline_drift_*``)
        in two queries, where query_points would take two per metric name.
        """
        start_us, end_us = to_micros(start, "start"), to_micros(end, "end")
        with self._engine.connect() as connection:
            query = select(series.c.id, series.c.name, series.c.labels)
            if name_prefix:
                query = query.where(series.c.name.startswith(name_prefix, autoescape=True))
            wanted = {
                row.id: (row.name, dict(row.labels))
                for row in connection.execute(query)
                if keep(row.name, row.labels)
            }
            found = _read_points(connection, wanted, start_us, end_us)
        return [
            Series(name, labels, tuple(found[i][0]), tuple(found[i][1]))
            for i, (name, labels) in wanted.items()
        ]

    def execution_points(
        self, execution_id: int, at: datetime, matchers: Mapping[str, str | Matcher]
    ) -> list[Point]:
        """The points execution ``execution_id`` wrote at ``at`` into series matching
        ``matchers`` (found through the primary key, so no scan of the points table)."""
        ids = {
            series_id: (name, labels) for series_id, name, labels in self._matching_series(matchers)
        }
        at_us = to_micros(at, "at")
        found = []
        with self._engine.connect() as connection:
            for chunk in _batches(ids, _IN_CHUNK):
                rows = connection.execute(
                    select(points.c.series_id, points.c.value).where(
                        points.c.series_id.in_(chunk),
                        points.c.time_us == at_us,
                        points.c.execution_id == execution_id,
                    )
                )
                for series_id, value in rows:
                    name, labels = ids[series_id]
                    found.append(Point(name, labels, _value(value), at))
        return sorted(found, key=lambda p: (p.name, sorted(p.labels.items())))

    def _matching_series(
        self, matchers: Mapping[str, str | Matcher]
    ) -> list[tuple[int, str, dict[str, str]]]:
        wanted = _matchers(matchers)
        with self._engine.connect() as connection:
            rows = connection.execute(select(series.c.id, series.c.name, series.c.labels)).all()
        return [(row.id, row.name, dict(row.labels)) for row in rows if _match(wanted, row.labels)]

    def list_series(
        self,
        name_prefix: str | None = None,
        matchers: Mapping[str, str | Matcher] | None = None,
    ) -> list[tuple[str, dict[str, str]]]:
        """(name, labels) of every series whose name starts with ``name_prefix`` and whose
        labels match, ordered by name then labels."""
        found = [
            (name, labels)
            for _, name, labels in self._matching_series(matchers or {})
            if not name_prefix or name.startswith(name_prefix)
        ]
        return sorted(found, key=lambda item: (item[0], sorted(item[1].items())))

    def latest_points(self, name_prefix: str | None = None) -> list[Point]:
        """The newest point of every series (whose name starts with ``name_prefix``)."""
        newer = points.alias("newer")
        latest_time = (
            select(func.max(newer.c.time_us))
            .where(newer.c.series_id == series.c.id)
            .scalar_subquery()
        )
        query = select(
            series.c.name, series.c.labels, points.c.time_us, points.c.value
        ).select_from(
            series.join(
                points, and_(points.c.series_id == series.c.id, points.c.time_us == latest_time)
            )
        )
        if name_prefix:
            # autoescape: a "%" or "_" in the prefix is matched literally, not as a wildcard.
            query = query.where(series.c.name.startswith(name_prefix, autoescape=True))
        with self._engine.connect() as connection:
            rows = connection.execute(query.order_by(series.c.name, series.c.id)).all()
        return [
            Point(row.name, row.labels, _value(row.value), from_micros(row.time_us)) for row in rows
        ]

    def _series_ids(
        self, connection: Connection, labels_of: Mapping[SeriesKey, dict[str, str]]
    ) -> dict[SeriesKey, int]:
        """Ids of the given series, creating the ones that do not exist yet."""
        ids = self._lookup(connection, list(labels_of))
        missing = [key for key in labels_of if key not in ids]
        if missing:
            statement = _dialect_insert(connection, series).on_conflict_do_nothing(
                index_elements=["name", "labels_hash"]
            )
            connection.execute(
                statement,
                [
                    {"name": name, "labels": labels_of[name, digest], "labels_hash": digest}
                    for name, digest in missing
                ],
            )
            # Read back rather than RETURNING: a concurrent writer may have created some of them.
            ids.update(self._lookup(connection, missing))
        return ids

    @staticmethod
    def _lookup(connection: Connection, keys: Sequence[SeriesKey]) -> dict[SeriesKey, int]:
        ids: dict[SeriesKey, int] = {}
        for chunk in _batches(keys, _IN_CHUNK):
            rows = connection.execute(
                select(series.c.id, series.c.name, series.c.labels_hash).where(
                    tuple_(series.c.name, series.c.labels_hash).in_(chunk)
                )
            )
            ids.update({(row.name, row.labels_hash): row.id for row in rows})
        return ids
