"""The public API is exactly ``modelmon.__all__``, and the package is typed."""

from __future__ import annotations

from pathlib import Path

import modelmon


def test_all_public_names_are_exported() -> None:
    public = sorted(
        (name for name in vars(modelmon) if not name.startswith("_") or name == "__version__"),
        key=str.casefold,
    )
    # Submodules are importable but are not API.
    public = [n for n in public if not isinstance(getattr(modelmon, n), type(modelmon))]
    assert sorted(modelmon.__all__, key=str.casefold) == public


def test_py_typed_is_shipped() -> None:
    assert (Path(modelmon.__file__).parent / "py.typed").exists()


def test_errors_map_to_exit_codes_and_http_statuses() -> None:
    assert issubclass(modelmon.DatasetError, modelmon.InputError)
    assert issubclass(modelmon.BaselineFormatError, modelmon.InputError)
    assert modelmon.InputError("x").exit_code == 2
    assert modelmon.InputError("x").http_status == 400
    assert modelmon.ConfigError("x").http_status == 422
    assert modelmon.NotFoundError("x").http_status == 404
    error = modelmon.DatasetError(
        "bad value", path="a.csv", line=3, column="age", expected="a number", found="'x'"
    )
    assert str(error) == "a.csv, line 3, column 'age': bad value (expected a number; found 'x')"
