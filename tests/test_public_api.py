"""The public API is exactly ``modelmon.__all__``, and the package is typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import modelmon


def test_all_public_names_are_exported() -> None:
    names = sorted(modelmon.__all__, key=str.casefold)
    assert names == sorted(set(names), key=str.casefold)
    for name in names:
        assert getattr(modelmon, name) is not None
    public = {
        n
        for n in dir(modelmon)
        if (not n.startswith("_") or n == "__version__")
        and not isinstance(getattr(modelmon, n), type(modelmon))
    }
    assert public == set(names)


def test_capture_does_not_import_the_statistics_stack() -> None:
    code = "import sys, modelmon; modelmon.Capture; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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
