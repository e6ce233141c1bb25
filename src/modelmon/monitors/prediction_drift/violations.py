"""Violations of the monitors beyond SageMaker's six checks, written as SageMaker writes its own.

``constraint_violations.json`` is ``{"violations": [{"feature_name", "constraint_check_type",
"description"}]}``; SageMaker's reader accepts any check type, so prediction drift and service
health use their own names (``prediction_disagreement_check``, ``latency_check``...).
(Shared by the prediction-drift and service-health monitors.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from modelmon.errors import ConfigError
from modelmon.formats.sagemaker import JsonObject, write_json_atomic

__all__ = ["VIOLATIONS_FILE", "Violation", "output_directory", "violations_json", "write_violations"]

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


def write_violations(path: Path, violations: Iterable[Violation]) -> None:
    write_json_atomic(path, violations_json(violations))


def output_directory(directory: str | os.PathLike[str]) -> Path:
    """``directory``, created if needed; a ConfigError if it is a file."""
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"The output {str(out)!r} exists and is not a directory.")
    out.mkdir(parents=True, exist_ok=True)
    return out
