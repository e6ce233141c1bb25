"""What an import did: how many rows it read and stored, and every row it could not use.

An import keeps going past a bad row: the row is reported (file, line, what was wrong, as a
:class:`~modelmon.errors.DatasetError`) and the rest is stored. Its exit status says which case it
was: 0 everything imported, 1 imported with problems, 2 nothing usable.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from modelmon.errors import DatasetError

__all__ = ["ImportReport", "Problems"]

MAX_LISTED = 1_000  # problems kept in detail; the rest are only counted, by kind


class Problems:
    """Collects the rows an import could not use."""

    def __init__(self) -> None:
        self.listed: list[DatasetError] = []
        self.by_kind: Counter[str] = Counter()

    def add(self, kind: str, error: DatasetError) -> None:
        """Record a problem; ``kind`` is a short name to count it under ("unknown id")."""
        self.by_kind[kind] += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(error)

    @property
    def count(self) -> int:
        return sum(self.by_kind.values())


@dataclass(frozen=True)
class ImportReport:
    """The outcome of importing ``source``: ``read`` rows (or records) seen, ``imported``
    stored, ``problems`` the first :data:`MAX_LISTED` unusable rows, ``problem_counts`` all of
    them by kind, ``files`` written, and ``notes`` worth telling the user."""

    source: str
    read: int
    imported: int
    problems: tuple[DatasetError, ...] = ()
    problem_counts: dict[str, int] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def problem_count(self) -> int:
        return sum(self.problem_counts.values())

    @property
    def exit_code(self) -> int:
        """0 all imported, 1 imported with problems, 2 nothing usable."""
        if self.imported == 0:
            return 2
        return 1 if self.problem_counts else 0

    def summary(self, what: str) -> str:
        """One paragraph for the user, e.g. ``summary("labels")``."""
        text = f"Imported {self.imported} of {self.read} {what} from {self.source}"
        text += f" into {len(self.files)} files." if self.files else "."
        if self.problem_counts:
            kinds = ", ".join(f"{count} {kind}" for kind, count in self.problem_counts.items())
            text += f"\n{self.problem_count} rows not imported: {kinds}."
        return "\n".join([text, *self.notes])

    @staticmethod
    def of(
        source: str,
        read: int,
        imported: int,
        problems: Problems,
        files: list[Path],
        notes: list[str],
    ) -> ImportReport:
        return ImportReport(
            source=source,
            read=read,
            imported=imported,
            problems=tuple(problems.listed),
            problem_counts=dict(problems.by_kind),
            files=tuple(files),
            notes=tuple(notes),
        )
