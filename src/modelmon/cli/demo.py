"""``modelmon demo``: the whole loop on generated credit data (see ``modelmon.demo.run``)."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ProgressBar", "register"]


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run modelmon end to end: a model, its proxy, days of traffic, monitors, alerts",
        description=(
            "Train a credit model, serve it behind the capture proxy, replay simulated days of "
            "traffic (healthy, drifting, a broken pipeline, a shadow version and a slow-down), "
            "send late labels, run the scheduled monitors, fire alerts to a local webhook, and "
            "leave the server and its dashboard running."
        ),
    )
    demo.add_argument(
        "--dir", default="modelmon-demo", help="working directory (default: %(default)s)"
    )
    demo.add_argument("--days", type=int, default=4, help="days of the story (1-4, default 4)")
    demo.add_argument(
        "--rate", type=int, default=60, help="applications per simulated hour (%(default)s)"
    )
    demo.add_argument("--port", type=int, default=8080, help="the server's port (%(default)s)")
    demo.add_argument(
        "--no-serve",
        action="store_true",
        help="exit when the story is done instead of leaving the server running",
    )
    demo.set_defaults(handler=_demo)


class ProgressBar:
    """``[######......] 42% day 2: ...`` on one line of a terminal; a line per new step text
    elsewhere (logs, CI)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._tty = stream.isatty()
        self._last = ""

    def __call__(self, done: int, total: int, text: str) -> None:
        share = done / total if total else 1.0
        if self._tty:
            filled = round(share * self._width)
            bar = "#" * filled + "." * (self._width - filled)
            self._stream.write(f"\r[{bar}] {share:4.0%} {text[:60]:<60}")
            if done >= total:
                self._stream.write("\n")
        elif text != self._last:
            self._stream.write(f"[{share:4.0%}] {text}\n")
        self._last = text
        self._stream.flush()


def _demo(args: argparse.Namespace) -> int:
    from modelmon.demo.run import DemoResult, run_demo
    from modelmon.demo.summary import summarise

    def serve_forever(result: DemoResult) -> None:
        url = result.base_url
        print(summarise(result))
        print(f"\nThe dashboard is at {url}/  (API schema at {url}/openapi.json).")
        print("The server keeps running with the simulated clock stopped; press Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\nStopping.")

    result = run_demo(
        Path(args.dir),
        days=args.days,
        rate=args.rate,
        port=args.port,
        progress=ProgressBar(sys.stderr),
        serve_forever=None if args.no_serve else serve_forever,
    )
    if args.no_serve:
        print(summarise(result))
    return 0
