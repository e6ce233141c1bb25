"""What happens on each simulated day of the demo, as data: the runner plays it, the test checks it.

Day 1 is healthy. Day 2: incomes rise (a real population change). Day 3: an upstream job sends
loan amounts in cents and loses a third of credit scores (a broken pipeline). Day 4: version v2
runs in shadow on half the traffic, and from noon the model server slows down. Labels for each day
arrive a day late.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STORY", "Day"]


@dataclass(frozen=True)
class Day:
    title: str
    drifts: tuple[str, ...] = ()
    shadow_fraction: float = 0.0
    # Hours (0-23) from which the model server answers this many seconds late.
    slow_from_hour: int | None = None
    slow_seconds: float = 0.0


STORY = (
    Day("healthy traffic"),
    Day("incomes rise 40% (population drift)", drifts=("income_shift",)),
    Day(
        "an upstream job sends loan amounts in cents and loses credit scores",
        drifts=("unit_change", "missing_scores"),
    ),
    Day(
        "v2 runs in shadow; the model server slows down from noon",
        shadow_fraction=0.5,
        slow_from_hour=12,
        slow_seconds=0.3,
    ),
)
