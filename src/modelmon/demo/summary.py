"""What the demo found, day by day, as text for the terminal."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from modelmon.demo.run import DAY_ONE, DemoResult
from modelmon.demo.story import STORY

__all__ = ["summarise"]


def summarise(result: DemoResult) -> str:
    by_day: dict[int, list[str]] = defaultdict(list)
    for execution in result.executions:
        day = (datetime.fromisoformat(execution["window_start"]) - DAY_ONE).days + 1
        features = sorted({v["feature"] for v in execution.get("violations") or []})
        if execution["status"] == "CompletedWithViolations":
            by_day[day].append(f"{execution['monitor_type']}: {', '.join(features)}")
    lines = [
        f"modelmon demo: {result.requests} requests through the proxy "
        f"({result.request_errors} errors), {len(result.executions)} monitoring executions, "
        f"{len(result.notifications)} alert notifications."
    ]
    for number, story_day in enumerate(STORY[: result.days], start=1):
        found = sorted(set(by_day.get(number, [])))
        lines.append(f"Day {number} ({story_day.title}): " + ("; ".join(found) or "no violations"))
    if result.notifications:
        lines.append("Alert notifications sent to the demo's webhook:")
        lines += [f"  {n.get('subject', n)}" for n in result.notifications]
    lines.append(f"Data, reports and the database are in {result.data_dir}.")
    return "\n".join(lines)
