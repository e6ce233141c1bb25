"""What the demo found, day by day, as text for the terminal."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from modelmon.demo.run import DAY_ONE, DemoResult
from modelmon.demo.story import STORY

__all__ = ["summarise"]


def summarise(result: DemoResult) -> str:
    by_day: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for execution in result.executions:
        day = (datetime.fromisoformat(execution["window_start"]) - DAY_ONE).days + 1
        if execution["status"] == "CompletedWithViolations":
            features = {v["feature"] for v in execution.get("violations") or []}
            by_day[day][execution["monitor_type"]] |= features
    lines = [
        f"modelmon demo: {result.requests} requests through the proxy "
        f"({result.request_errors} errors), {len(result.executions)} monitoring executions, "
        f"{len(result.notifications)} alert notifications."
    ]
    for number, story_day in enumerate(STORY[: result.days], start=1):
        monitors = by_day.get(number, {})
        found = [f"{kind}: {', '.join(sorted(monitors[kind]))}" for kind in sorted(monitors)]
        lines.append(f"Day {number} ({story_day.title}): " + ("; ".join(found) or "no violations"))
    if result.notifications:
        lines.append("Alert notifications sent to the demo's webhook:")
        lines += [f"  {n.get('subject', n)}" for n in result.notifications]
    lines.append(f"Data, reports and the database are in {result.data_dir}.")
    return "\n".join(lines)
