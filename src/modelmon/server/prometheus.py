"""Prometheus text exposition (format 0.0.4) of the latest monitoring points and server health.

Each stored series becomes a sample of its sanitised name prefixed ``modelmon_``, with its labels
and the time of its newest point, so Prometheus (and Alertmanager) can route on them directly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping

from modelmon.store import ExecutionStatus, Point

__all__ = ["exposition", "metric_name", "sample"]

_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(name: str) -> str:
    cleaned = _INVALID.sub("_", name)
    return cleaned if cleaned.startswith("modelmon_") else f"modelmon_{cleaned}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def sample(name: str, labels: Mapping[str, str], value: float, ms: int | None = None) -> str:
    pairs = ",".join(
        f'{_INVALID_LABEL.sub("_", k)}="{_escape(str(v))}"' for k, v in sorted(labels.items())
    )
    text = f"{name}{{{pairs}}} {_number(value)}" if pairs else f"{name} {_number(value)}"
    return text if ms is None else f"{text} {ms}"


def _points(points: Iterable[Point]) -> Iterator[str]:
    by_name: dict[str, list[Point]] = {}
    for point in points:
        by_name.setdefault(metric_name(point.name), []).append(point)
    for name in sorted(by_name):
        yield f"# TYPE {name} gauge"
        for point in by_name[name]:
            ms = int(point.timestamp.timestamp() * 1000)
            yield sample(name, {"metric": point.name, **point.labels}, point.value, ms)


def exposition(
    points: Iterable[Point],
    executions: Mapping[ExecutionStatus, int],
    health: Mapping[str, float],
    extra: Iterable[str] = (),
) -> str:
    """The whole /metrics page: monitoring points, execution counts, server health, extras."""
    lines = list(_points(points))
    lines.append("# TYPE modelmon_executions gauge")
    for status in ExecutionStatus:
        lines.append(
            sample("modelmon_executions", {"status": status.value}, executions.get(status, 0))
        )
    for name, value in sorted(health.items()):
        lines.append(f"# TYPE {name} gauge")
        lines.append(sample(name, {}, value))
    lines.extend(extra)
    return "\n".join(lines) + "\n"
