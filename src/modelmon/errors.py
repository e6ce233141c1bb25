"""The one exception hierarchy of modelmon.

* ModelmonError                 base; ``exit_code`` for the CLI, ``http_status`` for the API
  x InputError                  the user's data or files are wrong (exit 2, HTTP 400)
    + DatasetError              a dataset (CSV, Parquet, JSON Lines, capture) cannot be read
    + BaselineFormatError       a statistics/constraints/analysis JSON file is not valid
  x ConfigError                 a parameter or option is wrong (exit 2, HTTP 422)
    + SchemaVersionError        the database schema is not the one this modelmon expects
  x NotFoundError               a named thing does not exist (exit 2, HTTP 404)
  x ConflictError               the request clashes with stored state (exit 2, HTTP 409)

Every message says where (file, line, column), what was expected and what was found, so the
user can fix the input without reading a traceback.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "BaselineFormatError",
    "ConfigError",
    "ConflictError",
    "DatasetError",
    "InputError",
    "ModelmonError",
    "NotFoundError",
    "SchemaVersionError",
]


class ModelmonError(Exception):
    """Base class of every error modelmon raises on purpose."""

    exit_code: int = 2
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(ModelmonError):
    """Input data or an input file is not what modelmon can use.

    ``path``, ``line`` (1-based, counting a header line), ``column`` (a name), ``expected`` and
    ``found`` are kept as attributes so that an API can return them as fields.
    """

    http_status = 400

    def __init__(
        self,
        problem: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.expected = expected
        self.found = found
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.problem
        details = []
        if self.expected is not None:
            details.append(f"expected {self.expected}")
        if self.found is not None:
            details.append(f"found {self.found}")
        if details:
            text += " (" + "; ".join(details) + ")"
        return text


class DatasetError(InputError):
    """A dataset cannot be read: missing, malformed, empty, wrongly encoded or mixed-typed."""


class BaselineFormatError(InputError):
    """A baseline or report JSON file (SageMaker-compatible) is not valid JSON or not the schema."""


class ConfigError(ModelmonError):
    """A parameter, option or configuration value is invalid.

    The message follows one format: "The 'threshold' parameter of X must be ... Got ... instead."
    """

    http_status = 422


class NotFoundError(ModelmonError):
    """A model, version, execution, feature or file that was named does not exist."""

    http_status = 404


class SchemaVersionError(ConfigError):
    """The database schema is not the one this version of modelmon was written for."""


class ConflictError(ModelmonError):
    """The request clashes with the stored state: a duplicate name, a disallowed status change."""

    http_status = 409
