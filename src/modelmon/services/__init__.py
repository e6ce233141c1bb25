"""Services: the scheduler and the executor between the store, captured data and the monitors.

scheduler = Scheduler(store, data_dir=DATA_DIR, owner="host-1", clock=utc_now)
scheduler.tick()    # runs every execution that came due, catching up missed periods
"""

from __future__ import annotations

from modelmon.services.cron import Now, Recurring, ScheduleExpression, due_times, parse
from modelmon.services.executor import run_execution
from modelmon.services.runners import EMPTY_WINDOW_REASON
from modelmon.services.scheduler import DEFAULT_LEASE_SECONDS, Scheduler
from modelmon.services.windows import Window, explicit_window, scheduled_window

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "EMPTY_WINDOW_REASON",
    "Now",
    "Recurring",
    "ScheduleExpression",
    "Scheduler",
    "Window",
    "due_times",
    "explicit_window",
    "parse",
    "run_execution",
    "scheduled_window",
]
