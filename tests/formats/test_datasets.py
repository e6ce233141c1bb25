"""open_dataset: every format streams as typed record batches, every bad input names where it is."""

from __future__ import annotations

import ast
import base64
import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmon.errors import ConfigError, DatasetError
from modelmon.formats import (
    _reading,
    capture_jsonl,
    csv_reader,
    datasets,
    jsonl_reader,
    parquet_reader,
    text_types,
)
from modelmon.formats.datasets import Dataset, DatasetSource, open_dataset

DATA = Path(__file__).parent / "data"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def rows(dataset: Dataset) -> list[dict[str, Any]]:
    return [row for batch in dataset.batches() for row in batch.to_pylist()]


def types(dataset: Dataset) -> dict[str, str]:
    return {item.name: str(item.type) for item in dataset.schema}


def error_of(data: Any, **options: Any) -> DatasetError:
    """The error opening ``data`` raises; callers check its whole message or its fields."""
    with pytest.raises(DatasetError, match=r"\S") as caught:
        open_dataset(data, **options)
    return caught.value


# -- formats and paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "format"),
    [
        ("t.csv", b"a,b\n1,x\n", "csv"),
        ("t.tsv", b"a\tb\n1\tx\n", "csv"),
        ("t.csv.gz", gzip.compress(b"a,b\n1,x\n"), "csv"),
        ("t.jsonl", b'{"a": 1, "b": "x"}\n', "jsonl"),
        ("t.ndjson", b'{"a": 1, "b": "x"}\n', "jsonl"),
        ("t.json", b'{"a": 1, "b": "x"}\n', "jsonl"),
        ("t.JSONL.GZ", gzip.compress(b'{"a": 1, "b": "x"}\n'), "jsonl"),
    ],
)
def test_format_comes_from_the_extension(
    tmp_path: Path, name: str, content: bytes, format: str
) -> None:
    dataset = open_dataset(write(tmp_path / name, content))
    assert dataset.source == DatasetSource(str(tmp_path / name), format, True)
    assert rows(dataset) == [{"a": 1, "b": "x"}]


@pytest.mark.parametrize("name", ["t.parquet", "t.pq"])
def test_parquet_extensions(tmp_path: Path, name: str) -> None:
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / name)
    dataset = open_dataset(tmp_path / name)
    assert dataset.source.format == "parquet"
    assert rows(dataset) == [{"a": 1}, {"a": 2}]


def test_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "export.txt", "a,b\n1,2\n")
    assert rows(open_dataset(path, format="csv")) == [{"a": 1, "b": 2}]
    assert rows(open_dataset(str(path), format="csv")) == [{"a": 1, "b": 2}]


def test_unknown_extension_lists_the_formats(tmp_path: Path) -> None:
    error = error_of(write(tmp_path / "train.xlsx", "x"))
    assert error.path == str(tmp_path / "train.xlsx")
    assert "cannot tell the format from the file name" in str(error)
    assert "expected a name ending in .csv, .tsv, .parquet" in str(error)
    assert "--dataset-format (csv|parquet|jsonl|sagemaker-capture)" in str(error)
    assert "found '.xlsx'" in str(error)


def test_missing_file_says_whether_its_directory_exists(tmp_path: Path) -> None:
    write(tmp_path / "train.csv", "a\n1\n")
    near = error_of(tmp_path / "trian.csv")
    assert str(near) == (
        f"{tmp_path / 'trian.csv'}: no such file in the directory {tmp_path}; "
        "did you mean 'train.csv'?"
    )
    far = error_of(tmp_path / "nowhere" / "train.csv")
    assert str(far) == (
        f"{tmp_path / 'nowhere' / 'train.csv'}: no such file, nor its directory "
        f"{tmp_path / 'nowhere'}"
    )


def test_a_directory_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path / "b" / "2.csv", "x\n3\n")
    write(tmp_path / "a" / "9.csv", "x\n1\n")
    write(tmp_path / "a" / "10" / "1.csv", "x\n0\n")
    write(tmp_path / "_SUCCESS", "")
    write(tmp_path / ".hidden" / "9.csv", "x\nnot me\n")
    write(tmp_path / "a" / "._9.csv", "junk")
    write(tmp_path / "a" / "notes.md", "# not data")
    dataset = open_dataset(tmp_path)
    assert dataset.source == DatasetSource(str(tmp_path), "csv", True)
    assert [row["x"] for row in rows(dataset)] == [0, 1, 3]


def test_a_directory_of_several_formats_needs_a_format(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "x\n1\n")
    write(tmp_path / "b.jsonl", '{"x": 2}\n')
    error = error_of(tmp_path)
    assert "the directory holds files of several formats" in str(error)
    assert "found csv, jsonl" in str(error)
    assert rows(open_dataset(tmp_path, format="jsonl")) == [{"x": 2}]


def test_a_directory_without_data_files(tmp_path: Path) -> None:
    write(tmp_path / "readme.md", "hi")
    error = error_of(tmp_path)
    assert str(error) == (
        f"{tmp_path}: the directory holds no data files (expected files ending in .csv, .tsv, "
        ".parquet, .pq, .jsonl, .ndjson, .json (optionally .gz, .bz2, .zst) (searched "
        "recursively); found 'readme.md')"
    )
    write(tmp_path / "a.csv", "x\n1\n")
    assert "holds no data files of format parquet" in str(error_of(tmp_path, format="parquet"))


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"format": "xls"}, "'format'"),
        ({"csv_header": "yes"}, "'csv_header'"),
        ({"batch_rows": 0}, "'batch_rows'"),
        ({"batch_rows": True}, "'batch_rows'"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ConfigError, match=f"The {parameter} parameter of open_dataset must be"):
        open_dataset(pa.table({"a": [1]}), **options)


def test_unsupported_data_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"Got builtins.list instead\.$"):
        open_dataset([1, 2])  # type: ignore[arg-type]


# -- in-memory data ----------------------------------------------------------------------------


def test_pandas_frame_is_sliced_into_batches() -> None:
    frame = pd.DataFrame({"a": range(5), "s": list("vwxyz"), "c": pd.Categorical(list("ppqqp"))})
    dataset = open_dataset(frame, batch_rows=2)
    assert dataset.source == DatasetSource("pandas DataFrame", "pandas", True)
    assert types(dataset) == {"a": "int64", "s": "string", "c": "string"}
    assert [batch.num_rows for batch in dataset.batches()] == [2, 2, 1]
    assert [row["c"] for row in rows(dataset)] == list("ppqqp")
    assert dataset.num_rows == 5


def test_pandas_mixed_object_column_becomes_text() -> None:
    frame = pd.DataFrame({"m": [1, "a", None, 2.5], "n": [1, 2, 3, 4]})
    dataset = open_dataset(frame)
    assert types(dataset) == {"m": "string", "n": "int64"}
    assert [row["m"] for row in rows(dataset)] == ["1", "a", None, "2.5"]


def test_pandas_duplicate_columns_are_an_error() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    assert str(error_of(frame)) == (
        "pandas DataFrame, column 'a': two columns have the same name "
        "(expected distinct column names)"
    )


def test_polars_frame() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3], "s": ["x", None, "z"]})
    dataset = open_dataset(frame, batch_rows=2)
    assert dataset.source == DatasetSource("polars DataFrame", "polars", True)
    assert types(dataset) == {"a": "int64", "s": "string"}
    assert rows(dataset) == frame.to_dicts()


def test_arrow_table_batches_are_zero_copy_slices() -> None:
    table = pa.table({"a": list(range(10))})
    batches = list(open_dataset(table, batch_rows=4).batches())
    assert [batch.num_rows for batch in batches] == [4, 4, 2]
    buffer = table.column("a").chunks[0].buffers()[1]
    assert batches[1].column(0).buffers()[1].address == buffer.address


def test_record_batch_and_dictionary_columns() -> None:
    batch = pa.record_batch({"d": pa.array(["x", "y", "x"]).dictionary_encode()})
    dataset = open_dataset(batch)
    assert dataset.source.description == "pyarrow RecordBatch"
    assert types(dataset) == {"d": "string"}
    assert rows(dataset) == [{"d": "x"}, {"d": "y"}, {"d": "x"}]


def test_empty_frames_have_no_rows() -> None:
    assert str(error_of(pd.DataFrame({"a": []}))) == "pandas DataFrame: the dataset has no rows"
    assert str(error_of(pa.table({}))) == "pyarrow Table: the dataset has no rows"


@pytest.mark.parametrize(
    "module",
    [datasets, _reading, parquet_reader, csv_reader, jsonl_reader, capture_jsonl, text_types],
)
def test_pandas_and_polars_are_imported_only_for_type_checking(module: ModuleType) -> None:
    tree = ast.parse(Path(str(module.__file__)).read_text())
    runtime = [node for node in tree.body if not isinstance(node, ast.If)]
    imported = {
        alias.name.split(".")[0]
        for node in runtime
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "pyarrow" in imported
    assert not imported & {"pandas", "polars"}


# -- CSV: headers, types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "has_header", "names"),
    [
        ("a,b\n1,2\n", True, ["a", "b"]),
        ("age,income,churn\n41,5000.5,yes\n", True, ["age", "income", "churn"]),
        ("name,city\nbob,paris\n", True, ["name", "city"]),
        (",a,b\n0,1,2\n", True, ["_c0", "a", "b"]),
        ("1,2\n3,4\n", False, ["_c0", "_c1"]),
        ("0.5,a,b\n0.7,c,d\n", False, ["_c0", "_c1", "_c2"]),
        ("red,small\nred,big\n", False, ["_c0", "_c1"]),
        ("x,x\ny,z\n", False, ["_c0", "_c1"]),
        ("a,,b\n1,2,3\n", False, ["_c0", "_c1", "_c2"]),
    ],
)
def test_header_detection(tmp_path: Path, text: str, has_header: bool, names: list[str]) -> None:
    dataset = open_dataset(write(tmp_path / "t.csv", text))
    assert dataset.source.has_header is has_header
    assert dataset.schema.names == names


def test_header_can_be_forced(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "red,small\nred,big\n")
    assert open_dataset(path, csv_header=True).schema.names == ["red", "small"]
    forced_off = open_dataset(write(tmp_path / "u.csv", "a,b\n1,2\n"), csv_header=False)
    assert forced_off.schema.names == ["_c0", "_c1"]
    assert rows(forced_off) == [{"_c0": "a", "_c1": "b"}, {"_c0": "1", "_c1": "2"}]


def test_csv_types_and_missing_values(tmp_path: Path) -> None:
    text = "i,f,s,n,na,mixed\n1,1.5,x,,NA,7\n-2,,y,,null,abc\n,3,,,N/A,007\n"
    dataset = open_dataset(write(tmp_path / "t.csv", text))
    assert types(dataset) == {
        "i": "int64",
        "f": "double",
        "s": "string",
        "n": "null",
        "na": "string",
        "mixed": "string",
    }
    assert rows(dataset) == [
        {"i": 1, "f": 1.5, "s": "x", "n": None, "na": "NA", "mixed": "7"},
        {"i": -2, "f": None, "s": "y", "n": None, "na": "null", "mixed": "abc"},
        {"i": None, "f": 3.0, "s": None, "n": None, "na": "N/A", "mixed": "007"},
    ]


def test_types_are_unified_over_the_whole_file(tmp_path: Path) -> None:
    # Well past Arrow's first block, where it would fix the types of its own inference.
    body = "".join(f"{i},{i},{i}\n" for i in range(200_000))
    path = write(tmp_path / "t.csv", "a,b,c\n" + body + "abc,2.5,3\n")
    dataset = open_dataset(path, batch_rows=50_000)
    assert types(dataset) == {"a": "string", "b": "double", "c": "int64"}
    batches = list(dataset.batches())
    assert all(batch.schema == dataset.schema for batch in batches)
    assert max(batch.num_rows for batch in batches) <= 50_000
    assert dataset.num_rows == sum(batch.num_rows for batch in batches) == 200_001
    assert batches[-1].to_pylist()[-1] == {"a": "abc", "b": 2.5, "c": 3}


def test_csv_quoting_bom_and_tabs(tmp_path: Path) -> None:
    text = '\ufeffid,note\n1,"a, ""quoted""\nnote"\n2,plain\n'
    assert rows(open_dataset(write(tmp_path / "q.csv", text))) == [
        {"id": 1, "note": 'a, "quoted"\nnote'},
        {"id": 2, "note": "plain"},
    ]
    assert rows(open_dataset(write(tmp_path / "t.tsv", "a\tb\n1,5\tx\n"))) == [
        {"a": "1,5", "b": "x"}
    ]


def test_rows_larger_than_a_block_are_read(tmp_path: Path) -> None:
    big = "x" * 3_000_000
    dataset = open_dataset(write(tmp_path / "t.csv", f"a,b\n1,{big}\n2,y\n"))
    assert [row["a"] for row in rows(dataset)] == [1, 2]
    assert len(rows(dataset)[0]["b"]) == 3_000_000


def test_csv_directory_unifies_types_and_checks_headers(tmp_path: Path) -> None:
    write(tmp_path / "1.csv", "a,b\n1,x\n")
    write(tmp_path / "2.csv", "a,b\n2.5,y\n")
    write(tmp_path / "3.csv", "")
    dataset = open_dataset(tmp_path)
    assert types(dataset) == {"a": "double", "b": "string"}
    assert rows(dataset) == [{"a": 1.0, "b": "x"}, {"a": 2.5, "b": "y"}]
    write(tmp_path / "4.csv", "a,c\n3,z\n")
    error = error_of(tmp_path)
    assert str(error) == (
        f"{tmp_path / '4.csv'}, line 1: the header differs from the first file's "
        f"(expected a, b (as in {tmp_path / '1.csv'}); found a, c)"
    )


# -- CSV: errors ---------------------------------------------------------------------------------


def test_wrong_number_of_fields_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", 'a,b\n1,2\n3,"multi\nline"\n\n4,5,6\n7,8\n')
    error = error_of(path)
    assert str(error) == (
        f"{path}, line 6: the row has the wrong number of fields "
        "(expected 2 fields, as in the header; found 3 fields: '4,5,6')"
    )
    assert (error.path, error.line) == (str(path), 6)


def test_wrong_number_of_fields_deep_in_a_large_file(tmp_path: Path) -> None:
    body = "".join(f"{i},{i}\n" for i in range(300_000))
    path = write(tmp_path / "t.csv", body + "1\n")
    error = error_of(path)
    assert error.line == 300_001
    assert "expected 2 fields, as on line 1; found 1 fields: '1'" in str(error)


def test_unterminated_quote_names_the_line_it_opens(tmp_path: Path) -> None:
    last_column = write(tmp_path / "a.csv", 'a,b\n1,2\n3,"4\n5,6\n')
    assert str(error_of(last_column)) == (
        f'{last_column}, line 3: a quoted field is never closed (expected a closing " before '
        "the end of the file; found the field opened here runs to the end of the file)"
    )
    first_column = write(tmp_path / "b.csv", 'a,b\n1,2\n"3,4\n5,6\n')
    assert error_of(first_column).line == 3


def test_a_stray_quote_inside_a_value_is_text(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "name,height\nann,5'11\"\n")
    assert rows(open_dataset(path)) == [{"name": "ann", "height": "5'11\""}]


def test_non_utf8_names_line_column_and_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", b"a,b\n1,x\n2,caf\xe9\n")
    error = error_of(path)
    assert str(error) == (
        f"{path}, line 3, column 'b': the file is not valid UTF-8; re-save it as UTF-8 "
        "(expected UTF-8 text; found the bytes b'\\xe9' in 'caf\ufffd')"
    )
    assert error.column == "b"


def test_non_utf8_deep_in_a_numeric_column(tmp_path: Path) -> None:
    body = "".join(f"{i},{i}\n" for i in range(100_000))
    path = write(tmp_path / "t.csv", b"a,b\n" + body.encode() + b"1,\xff\xfe\n")
    error = error_of(path)
    assert (error.line, error.column) == (100_002, "b")
    assert "the bytes b'\\xff\\xfe'" in str(error)


def test_non_utf8_header(tmp_path: Path) -> None:
    error = error_of(write(tmp_path / "t.csv", b"a,\xff\n1,2\n"), csv_header=True)
    assert (error.line, error.column) == (1, "_c1")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the dataset has no rows: the file is empty"),
        ("\n\n", "the dataset has no rows: the file is empty"),
        (
            "a,b\n",
            "the dataset has no rows: the file holds only a header line (line 1); if that line "
            "is data, pass csv_header=False (--no-csv-header)",
        ),
    ],
)
def test_empty_and_header_only_csv(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path / "t.csv", text)
    assert str(error_of(path)) == f"{path}: {problem}"


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = gzip.compress(b"a,b\n" + "".join(f"{i},{i * 7}\n" for i in range(20_000)).encode())
    path = write(tmp_path / "t.csv.gz", data[: len(data) // 2])
    assert str(error_of(path)) == f"{path}: cannot read the file (Truncated compressed stream)"


def test_duplicate_header_names(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "a,b,a\n1,2,3\n")
    assert str(error_of(path, csv_header=True)) == (
        f"{path}, line 1, column 'a': the header names two columns the same "
        "(expected distinct column names; found 'a' as columns 1 and 3)"
    )


# -- Parquet -------------------------------------------------------------------------------------


def test_parquet_streams_row_groups_in_batches(tmp_path: Path) -> None:
    table = pa.table({"a": list(range(10)), "s": pa.array(list("abcdeabcde")).dictionary_encode()})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=4)
    dataset = open_dataset(tmp_path / "t.parquet", batch_rows=3)
    assert types(dataset) == {"a": "int64", "s": "string"}
    assert dataset.num_rows == 10
    assert all(batch.num_rows <= 3 for batch in dataset.batches())
    assert (
        rows(dataset) == table.cast(pa.schema([("a", pa.int64()), ("s", pa.string())])).to_pylist()
    )


def test_parquet_directory_unifies_columns(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": pa.array([1], pa.int32()), "b": ["x"]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": [2.5], "c": [True]}), tmp_path / "2.parquet")
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), tmp_path / "3.parquet")
    dataset = open_dataset(tmp_path)
    assert types(dataset) == {"a": "double", "b": "string", "c": "bool"}
    assert rows(dataset) == [{"a": 1.0, "b": "x", "c": None}, {"a": 2.5, "b": None, "c": True}]


def test_parquet_mixed_plain_types_become_text(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": ["x"]}), tmp_path / "2.parquet")
    assert rows(open_dataset(tmp_path)) == [{"a": "1"}, {"a": "x"}]


def test_parquet_incompatible_types_name_both_files(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": [[1, 2]]}), tmp_path / "2.parquet")
    assert str(error_of(tmp_path)) == (
        f"{tmp_path / '2.parquet'}, column 'a': the column has another type than in an earlier "
        f"file (expected int64 (as in {tmp_path / '1.parquet'}); found list<element: int64>)"
    )


def test_not_a_parquet_file(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.parquet", "a,b\n1,2\n")
    error = error_of(bad)
    assert str(error).startswith(
        f"{bad}: not a Parquet file (expected a Parquet file (it ends with the magic bytes PAR1); "
        "found Parquet magic bytes not found in footer"
    )
    empty = write(tmp_path / "empty.parquet", "")
    assert str(error_of(empty)) == (
        f"{empty}: the file is empty (expected a Parquet file (it ends with the magic bytes "
        "PAR1); found 0 bytes)"
    )


def test_parquet_without_rows(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), tmp_path / "t.parquet")
    assert (
        str(error_of(tmp_path / "t.parquet"))
        == f"{tmp_path / 't.parquet'}: the dataset has no rows"
    )


def test_truncated_parquet(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": list(range(1000))}), tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    write(tmp_path / "cut.parquet", data[: len(data) // 2])
    assert "not a Parquet file" in str(error_of(tmp_path / "cut.parquet"))


# -- JSON Lines ----------------------------------------------------------------------------------


def test_jsonl_types_nesting_and_missing_keys(tmp_path: Path) -> None:
    lines = [
        {"i": 1, "f": 1, "b": True, "s": "x", "n": {"x": 1, "y": {"z": "deep"}}, "l": [1, 2]},
        {"i": 2, "f": 2.5, "b": None, "t": "2020-01-01T00:00:00Z", "n": {"x": 2}},
        {"i": None, "f": None, "s": None},
    ]
    path = write(tmp_path / "t.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    dataset = open_dataset(path)
    assert types(dataset) == {
        "i": "int64",
        "f": "double",
        "b": "bool",
        "s": "string",
        "n.x": "int64",
        "n.y.z": "string",
        "l": "string",
        "t": "string",
    }
    assert rows(dataset) == [
        {"i": 1, "f": 1.0, "b": True, "s": "x", "n.x": 1, "n.y.z": "deep", "l": "[1,2]", "t": None},
        {
            "i": 2,
            "f": 2.5,
            "b": None,
            "s": None,
            "n.x": 2,
            "n.y.z": None,
            "l": None,
            "t": "2020-01-01T00:00:00Z",
        },
        {
            "i": None,
            "f": None,
            "b": None,
            "s": None,
            "n.x": None,
            "n.y.z": None,
            "l": None,
            "t": None,
        },
    ]


def test_jsonl_mixed_types_become_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.jsonl",
        '{"a": 1, "b": true, "c": 2}\n\n{"a": "x", "b": 1, "c": 99999999999999999999}\n',
    )
    dataset = open_dataset(path)
    assert types(dataset) == {"a": "string", "b": "string", "c": "double"}
    assert rows(dataset) == [{"a": "1", "b": "true", "c": 2.0}, {"a": "x", "b": "1", "c": 1e20}]


def test_jsonl_types_are_unified_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl_reader, "_JSON_BLOCK", 1000)
    body = "".join(f'{{"a": {i}, "b": {i}}}\n' for i in range(1000))
    path = write(tmp_path / "t.jsonl", body + '{"a": "late", "b": 0.5}\n')
    dataset = open_dataset(path, batch_rows=300)
    assert types(dataset) == {"a": "string", "b": "double"}
    batches = list(dataset.batches())
    assert len(batches) > 20
    assert all(batch.schema == dataset.schema and batch.num_rows <= 300 for batch in batches)
    assert batches[0].to_pylist()[1] == {"a": "1", "b": 1.0}
    assert batches[-1].to_pylist()[-1] == {"a": "late", "b": 0.5}
    assert sum(batch.num_rows for batch in batches) == dataset.num_rows == 1001


def test_jsonl_lines_too_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl_reader, "_JSON_BLOCK", 10)
    monkeypatch.setattr(jsonl_reader, "_JSON_LINE_MAX", 100)
    path = write(tmp_path / "t.jsonl", '{"a": 1}\n{"a": "' + "x" * 200 + '"}\n')
    error = error_of(path)
    assert error.line == 2
    assert "the line is longer than" in str(error)


def test_jsonl_key_that_is_both_object_and_value(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", '{"a": {"b": 1}}\n{"a": 2}\n{"a.b": 3}\n')
    assert rows(open_dataset(path)) == [
        {"a.b": 1, "a": None},
        {"a.b": None, "a": 2},
        {"a.b": 3, "a": None},
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('{"a": 1}\n{"a": \n', 2, "the line is not valid JSON (Expecting value at character 7)"),
        ('{"a": 1}\n\n[1, 2]\n', 3, "the line is not a JSON object (write one object per line"),
        ('{"a": 1}\n5\n', 2, "the line is not a JSON object (expected one JSON object per line"),
        ('{"a": 1}{"a": 2}\n', 1, "the line is not valid JSON (Extra data at character 9)"),
        ('[{"a": 1},\n{"a": 2}]\n', 1, "the file looks like one JSON document"),
        ('{\n  "a": 1\n}\n', 1, "found '{'"),
    ],
)
def test_jsonl_bad_lines_are_named(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path / "t.jsonl", text)
    error = error_of(path)
    assert (error.path, error.line) == (str(path), line)
    assert fragment in str(error)


def test_jsonl_lone_surrogate_escape(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", '{"a": "x"}\n{"a": "\\ud800"}\n')
    error = error_of(path)
    assert error.line == 2
    assert "lone surrogate escape" in str(error)


def test_well_formed_jsonl_is_parsed_by_arrow_on_both_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        {"a": i, "b": {"c": i / 2, "d": None}, "t": "2020-01-01", "e": None} for i in range(50)
    ]
    path = write(tmp_path / "t.jsonl", "".join(json.dumps(line) + "\n" for line in lines))

    def python_reader(*args: Any) -> None:
        raise AssertionError("the slow reader was used")

    monkeypatch.setattr(jsonl_reader, "_python_json", python_reader)
    dataset = open_dataset(path)
    assert types(dataset) == {
        "a": "int64",
        "b.c": "double",
        "b.d": "null",
        "t": "string",
        "e": "null",
    }
    assert rows(dataset)[3] == {"a": 3, "b.c": 1.5, "b.d": None, "t": "2020-01-01", "e": None}


def test_jsonl_non_utf8(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", b'{"a": "x"}\n{"a": "caf\xe9"}\n')
    assert str(error_of(path)) == (
        f"{path}, line 2: the file is not valid UTF-8; re-save it as UTF-8 "
        "(expected UTF-8 text; found the bytes b'\\xe9' at byte 11)"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the dataset has no rows"),
        ("\n \n", "the dataset has no rows"),
        ("{}\n", "the dataset has no columns"),
    ],
)
def test_jsonl_without_data(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path / "t.jsonl", text)
    assert str(error_of(path)) == f"{path}: {problem}"


# -- SageMaker capture ---------------------------------------------------------------------------


def capture_line(inputs: str, output: str, encoding: str = "CSV", **meta: Any) -> str:
    content = "text/csv" if encoding == "CSV" else "application/json"
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": content, "data": inputs, "encoding": encoding},
            "endpointOutput": {
                "observedContentType": content,
                "data": output,
                "encoding": encoding,
            },
        },
        "eventMetadata": {"eventId": "e", "inferenceTime": "2024-01-01T00:00:00Z", **meta},
    }
    return json.dumps(record) + "\n"


def test_capture_fixture_tree_is_recognised_and_output_comes_first() -> None:
    dataset = open_dataset(DATA / "capture")
    assert dataset.source == DatasetSource(str(DATA / "capture"), "sagemaker-capture", False)
    assert types(dataset) == {
        "_c0": "double",
        "_c1": "int64",
        "_c2": "int64",
        "_c3": "double",
        "_c4": "int64",
        "_c5": "int64",
    }
    assert rows(dataset)[0] == {
        "_c0": 0.0363977,
        "_c1": 132,
        "_c2": 10,
        "_c3": 182.9,
        "_c4": 0,
        "_c5": 1,
    }


def test_capture_batch_records_and_batches(tmp_path: Path) -> None:
    text = capture_line("1,a\n2,b", "0.1\n0.2") * 3 + capture_line("3,c", "0.3")
    path = write(tmp_path / "cap.jsonl", text)
    dataset = open_dataset(path, batch_rows=4)
    assert [batch.num_rows for batch in dataset.batches()] == [4, 3]
    assert rows(dataset)[-1] == {"_c0": 0.3, "_c1": 3, "_c2": "c"}


def test_capture_json_named_features_have_a_header(tmp_path: Path) -> None:
    text = capture_line('{"age": 41, "plan": "pro"}', "0.9", "JSON") + capture_line(
        '{"age": 30}', "0.1", "JSON"
    )
    dataset = open_dataset(write(tmp_path / "c.jsonl", text), format="sagemaker-capture")
    assert dataset.source.has_header is True
    assert rows(dataset) == [
        {"_c0": 0.9, "age": 41, "plan": "pro"},
        {"_c0": 0.1, "age": 30, "plan": None},
    ]


def test_capture_base64_csv(tmp_path: Path) -> None:
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "data": base64.b64encode(b"5,6").decode(),
                "encoding": "BASE64",
            }
        },
        "eventMetadata": {"eventId": "e", "inferenceTime": "2024-01-01T00:00:00Z"},
    }
    path = write(tmp_path / "c.jsonl", json.dumps(record) + "\n")
    assert rows(open_dataset(path)) == [{"_c0": 5, "_c1": 6}]


def test_capture_width_change_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", capture_line("1,2", "0") + "\n" + capture_line("1", "0"))
    assert str(error_of(path)) == (
        f"{path}, line 3: the record has a different number of values than the records before "
        f"it (expected 1 output + 2 input values (as on line 1 of {path}); "
        "found 1 output + 1 input values)"
    )


def test_capture_bad_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", capture_line("1", "0") + '{"captureData": 5}\n')
    error = error_of(path, format="sagemaker-capture")
    assert (error.line, error.column) == (2, "captureData")
    broken = write(tmp_path / "d.jsonl", capture_line("1", "0") + "{oops\n")
    assert error_of(broken, format="sagemaker-capture").line == 2


# -- round trips ---------------------------------------------------------------------------------

_ints = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
_floats = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))
_words = st.one_of(st.none(), st.text(alphabet="abc xyz,\"'\n\t", min_size=1))
_frames = st.integers(1, 30).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "i": st.lists(_ints, min_size=n, max_size=n),
            "f": st.lists(_floats, min_size=n, max_size=n),
            "s": st.lists(_words, min_size=n, max_size=n),
        }
    )
)
_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _same(got: list[dict[str, Any]], frame: dict[str, list[Any]]) -> None:
    expected = [
        dict(zip(frame, values, strict=True)) for values in zip(*frame.values(), strict=True)
    ]
    assert got == expected  # 1 == 1.0 in Python: an all-integral float column may read as int


@_settings
@given(frame=_frames)
def test_csv_round_trip(tmp_path: Path, frame: dict[str, list[Any]]) -> None:
    table = pa.table(
        {
            "i": pa.array(frame["i"], pa.int64()),
            "f": pa.array(frame["f"], pa.float64()),
            "s": pa.array(frame["s"], pa.string()),
        }
    )
    pa_csv.write_csv(table, tmp_path / "t.csv")
    dataset = open_dataset(tmp_path / "t.csv", batch_rows=7)
    assert dataset.schema.names == ["i", "f", "s"]
    assert str(dataset.schema.field("i").type) in ("int64", "null")
    _same(rows(dataset), frame)


@_settings
@given(frame=_frames)
def test_parquet_round_trip(tmp_path: Path, frame: dict[str, list[Any]]) -> None:
    table = pa.table(
        {
            "i": pa.array(frame["i"], pa.int64()),
            "f": pa.array(frame["f"], pa.float64()),
            "s": pa.array(frame["s"], pa.string()),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=5)
    dataset = open_dataset(tmp_path / "t.parquet", batch_rows=7)
    assert dataset.schema == table.schema.remove_metadata()
    _same(rows(dataset), frame)


@_settings
@given(
    frame=_frames,
    text=st.lists(st.one_of(st.none(), st.text()), min_size=30, max_size=30),
    blank=st.booleans(),
)
def test_jsonl_round_trip(
    tmp_path: Path, frame: dict[str, list[Any]], text: list[str | None], blank: bool
) -> None:
    frame["s"] = text[: len(frame["i"])]
    lines = [
        json.dumps(dict(zip(frame, values, strict=True)))
        for values in zip(*frame.values(), strict=True)
    ]
    # A blank line sends the block to the Python reader: both readers must agree.
    path = write(tmp_path / "t.jsonl", "\n".join(lines) + ("\n\n" if blank else "\n"))
    _same(rows(open_dataset(path, batch_rows=7)), frame)


# -- memory --------------------------------------------------------------------------------------


@contextmanager
def arrow_peak() -> Iterator[Any]:
    """A fresh Arrow memory pool as the default: its ``max_memory`` is the peak inside the block."""
    default = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(default)
    pa.set_memory_pool(pool)
    try:
        yield pool
    finally:
        pa.set_memory_pool(default)


@pytest.mark.slow
def test_large_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = write(tmp_path / "big.csv", "id,score,label\n")
    chunk = "".join(f"{i},{i / 7:.6f},c{i % 5}\n" for i in range(50_000)).encode()
    with path.open("ab") as out:
        while out.tell() < 200_000_000:
            out.write(chunk)
    with arrow_peak() as pool:
        dataset = open_dataset(path, batch_rows=100_000)
        sizes = [batch.num_rows for batch in dataset.batches()]
    assert max(sizes) <= 100_000  # Arrow's 1 MiB blocks: about 50,000 rows each here
    assert sum(sizes) == dataset.num_rows == 9_700_000
    assert pool.max_memory() < 20_000_000  # a tenth of the file


@pytest.mark.slow
def test_large_parquet_streams_in_bounded_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = pa.table({"id": np.arange(500_000), "score": rng.random(500_000)})
    path = tmp_path / "big.parquet"
    with pq.ParquetWriter(path, table.schema, compression="none", use_dictionary=False) as writer:
        for _ in range(25):
            writer.write_table(table, row_group_size=250_000)
    del table
    assert path.stat().st_size > 200_000_000
    with arrow_peak() as pool:
        dataset = open_dataset(path, batch_rows=100_000)
        sizes = [batch.num_rows for batch in dataset.batches()]
    assert max(sizes) == 100_000
    assert sum(sizes) == dataset.num_rows == 12_500_000
    assert pool.max_memory() < 20_000_000  # a tenth of the file
