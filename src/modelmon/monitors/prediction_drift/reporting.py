"""What the prediction-drift and service-health monitors share: their violations (written as
SageMaker writes its own), their report files, their exit messages and parameter checks.

``constraint_violations.json`` is ``{"violations": [{"feature_name", "constraint_check_type",
"description"}]}``; SageMaker's reader accepts any check type, so these monitors use their own
names (``prediction_disagreement_check``, ``latency_check``...).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelmon.errors import ConfigError
from modelmon.formats.atomic import output_directory
from modelmon.formats.sagemaker import JsonObject, write_json_atomic

__all__ = [
    "VIOLATIONS_FILE",
    "Violation",
    "check_count",
    "exit_message",
    "save_report",
    "violations_json",
]

VIOLATIONS_FILE = "constraint_violations.json"


@dataclass(frozen=True, slots=True)
class Violation:
    feature_name: str
    constraint_check_type: str
    description: str

    def as_tuple(self) -> tuple[str, str, str]:
        """As the executor records it: (feature, check type, description)."""
        return self.feature_name, self.constraint_check_type, self.description


def violations_json(violations: Iterable[Violation]) -> JsonObject:
    return {
        "violations": [
            {
                "feature_name": v.feature_name,
                "constraint_check_type": v.constraint_check_type,
                "description": v.description,
            }
            for v in violations
        ]
    }


def save_report(
    directory: str | os.PathLike[str],
    name: str,
    report: JsonObject,
    violations: Sequence[Violation],
) -> list[Path]:
    """Write ``report`` as ``name`` and the violations into ``directory``, each atomically."""
    out = output_directory(directory)
    write_json_atomic(out / name, report)
    write_json_atomic(out / VIOLATIONS_FILE, violations_json(violations))
    return [out / name, out / VIOLATIONS_FILE]


def exit_message(violations: int) -> str:
    """SageMaker's job exit message for a run that found ``violations``."""
    if not violations:
        return "Completed: Job completed successfully with no violations."
    return f"CompletedWithViolations: Job completed successfully with {violations} violations."


def check_count(owner: str, parameter: str, value: object) -> int:
    """``value`` as an int >= 1, or a ConfigError in the usual format."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"The {parameter!r} parameter of {owner} must be an int >= 1. Got {value!r} instead."
        )
    return value
