"""The ``modelmon`` command: parse, call the library, render, and map errors to exit codes.

Exit codes: 0 success (no violations), 1 violations found, 2 bad input or usage, 3 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from modelmon import __version__
from modelmon.cli import (
    alerts,
    attribution,
    bias,
    capture,
    client,
    data_quality,
    db,
    demo,
    model_quality,
    prediction_drift,
    proxy,
    serve,
    service_health,
)
from modelmon.errors import ModelmonError

__all__ = ["build_parser", "main"]

EXIT_INTERNAL = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelmon",
        description="Monitor machine-learning models in production (SageMaker-compatible files).",
    )
    parser.add_argument("--version", action="version", version=f"modelmon {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    alerts.register(commands)
    attribution.register(commands)
    bias.register(commands)
    capture.register(commands)
    client.register(commands)
    data_quality.register(commands)
    db.register(commands)
    demo.register(commands)
    model_quality.register(commands)
    prediction_drift.register(commands)
    proxy.register(commands)
    serve.register(commands)
    service_health.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except ModelmonError as error:
        print(f"modelmon: error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        # Permissions, full disks, paths that are files: the user can fix these.
        print(f"modelmon: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("modelmon: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("MODELMON_DEBUG"):
            traceback.print_exc()
        print(
            f"modelmon: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in modelmon; please report it with the command you ran "
            "(set MODELMON_DEBUG=1 to see the traceback).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
