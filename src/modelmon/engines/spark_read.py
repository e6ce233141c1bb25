"""Reading a dataset into a Spark DataFrame for the spark engine, and wording Spark's errors.

Local paths go through the same file selection as the local engine (a directory is read
recursively, skipping names that start with ``.`` or ``_``), so both engines see the same files.
Other URLs (``s3a://``, ``hdfs://``, ...) are handed to Spark as they are; their format comes from
the name or ``format``.

* Parquet is read with ``mergeSchema``: a column missing from a file is null there, and files
  whose column types clash are refused (the local engine widens int and float to float; Spark
  cannot, so the message says so).
* CSV is read as text, rows of the wrong width refused, and each file's header checked against the
  first's; the columns are then typed by the local engine's own rule (see ``spark.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelmon.errors import ConfigError, DatasetError
from modelmon.formats._reading import format_suffix
from modelmon.formats.csv_reader import _is_header
from modelmon.formats.datasets import FORMATS, DatasetFormat, DatasetSource, _resolve

__all__ = ["SparkInput", "is_spark_dataframe", "read_path", "spark_reason"]

_SNIFF_ROWS = 50  # rows after the first that the header rule looks at, as the local engine does
_SPARK_FORMATS = ("parquet", "csv")


@dataclass(frozen=True)
class SparkInput:
    """A DataFrame to profile; ``text`` when its columns are CSV text still to be typed."""

    frame: Any
    source: DatasetSource
    text: bool = False


def is_spark_dataframe(data: object) -> bool:
    """Whether ``data`` is a PySpark DataFrame, told by its class so pyspark is not imported."""
    return any(
        kind.__name__ == "DataFrame" and kind.__module__.startswith("pyspark.")
        for kind in type(data).__mro__
    )


def read_path(
    spark: Any, path: str | os.PathLike[str], format: str | None, csv_header: bool | None
) -> SparkInput:
    """A Spark DataFrame over the files at ``path``."""
    if format is not None and format not in FORMATS:
        choices = ", ".join(repr(name) for name in FORMATS)
        raise ConfigError(f"The dataset format must be one of {choices}. Got {format!r} instead.")
    text = os.fspath(path)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if _is_url(text):
        files, chosen = [text], format or _url_format(text)
    else:
        local, chosen = _resolve(Path(text), format)
        files = [str(file) for file in local]
    if chosen not in _SPARK_FORMATS:
        raise ConfigError(
            f"The spark engine reads Parquet and CSV; {text!r} is {chosen}. Convert it to "
            "Parquet, or use --engine local."
        )
    try:
        if chosen == "parquet":
            frame = spark.read.option("mergeSchema", "true").parquet(*files)
            return SparkInput(frame, DatasetSource(text, "parquet", True))
        return _read_csv(spark, text, files, csv_header)
    except Exception as error:
        if isinstance(error, DatasetError):
            raise
        raise unreadable(error, text) from error


def _is_url(text: str) -> bool:
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme != "file" and scheme.replace("+", "").isalnum()


def _url_format(url: str) -> DatasetFormat:
    suffix = format_suffix(Path(url.rstrip("/").rsplit("/", 1)[-1]))[0]
    found: dict[str, DatasetFormat] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
    if suffix == ".tsv":
        found[suffix] = "csv"
    if suffix not in found:
        raise ConfigError(
            f"Cannot tell the format of {url!r} from its name; pass --dataset-format "
            "parquet or csv."
        )
    return found[suffix]


def _read_csv(spark: Any, where: str, files: list[str], csv_header: bool | None) -> SparkInput:
    from pyspark.sql.types import StringType, StructField, StructType

    sep = "\t" if format_suffix(Path(files[0]))[0] == ".tsv" else ","
    options = {"sep": sep, "escape": '"', "mode": "FAILFAST", "encoding": "UTF-8"}
    head = spark.read.options(header=False, **options).csv(files[0]).limit(_SNIFF_ROWS + 1)
    rows = [[value or "" for value in row] for row in head.collect()]
    if not rows:
        raise DatasetError("the dataset has no rows", path=where)
    has_header = _is_header(rows[0], rows[1:]) if csv_header is None else csv_header
    if has_header:
        names = [name or f"_c{position}" for position, name in enumerate(rows[0])]
    else:
        names = [f"_c{position}" for position in range(len(rows[0]))]
    for position, name in enumerate(names):
        if name in names[:position]:
            raise DatasetError(
                "the header names two columns the same",
                path=files[0],
                column=name,
                expected="distinct column names",
            )
    schema = StructType([StructField(name, StringType()) for name in names])
    # enforceSchema off: Spark checks each file's header against these names.
    frame = spark.read.options(header=has_header, enforceSchema=False, **options).csv(
        files, schema=schema
    )
    return SparkInput(frame, DatasetSource(where, "csv", has_header), text=True)


def unreadable(error: BaseException, where: str) -> DatasetError:
    """A Spark failure while reading ``where`` as a DatasetError with Spark's own reason."""
    return DatasetError(f"Spark cannot read the data: {spark_reason(error)}", path=where)


def spark_reason(error: BaseException) -> str:
    """The useful lines of a Spark error: its first line and its root cause, without the JVM
    stack trace (Spark wraps a bad row in two or three layers of 'task failed')."""
    messages: list[str] = []
    java = getattr(error, "java_exception", None)
    while java is not None:
        text = str(java.getMessage() or java.toString())
        messages.append(text)
        java = java.getCause()
    if not messages:
        messages.append(str(error))
    lines = [_first_line(messages[0])]
    root = _first_line(messages[-1])
    if root not in lines[0]:
        lines.append(root)
    return "; ".join(line for line in lines if line)


def _first_line(message: str) -> str:
    text = " ".join(part.strip() for part in message.strip().splitlines()[:6] if part.strip())
    text = text.split(" SQLSTATE:")[0].strip()
    return text if len(text) <= 400 else text[:397] + "..."
