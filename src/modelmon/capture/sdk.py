"""The Python SDK: log inferences from inside a model server or a batch job.

>>> capture = Capture(model="churn", version="v3", sampling=0.2, data_dir=tmp)  # doctest: +SKIP
>>> inference_id = capture.log({"age": 41, "plan": "pro"}, {"churn": 0.93}, latency_ms=4.1)
>>> ids = capture.log_batch(frame, predictions)        # a DataFrame and its predictions
>>> @capture.wrap                                       # latency and exceptions recorded
... def predict(features): ...

``log`` does as little as it can on the caller's thread (a sampling decision, a shallow copy of the
values, an append to the writer's queue: a few microseconds) and never raises for a problem of
capture itself: a full queue drops and counts the record, a value that cannot be laid out is kept
as JSON text (see :mod:`modelmon.capture.columns`).
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import time as _time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar, cast, overload

import numpy as np
import pyarrow as pa

from modelmon.capture.columns import (
    INPUT_PREFIX,
    METADATA_SCHEMA,
    OUTPUT_PREFIX,
    LoggedInference,
)
from modelmon.capture.layout import check_name, utc
from modelmon.capture.records import new_inference_id
from modelmon.capture.writer import CaptureStats, CaptureWriter, LoggedBatch
from modelmon.errors import ConfigError
from modelmon.formats.datasets import open_dataset

__all__ = ["Capture"]

_log = logging.getLogger("modelmon.capture")
P = ParamSpec("P")
R = TypeVar("R")


def _now() -> datetime:
    return datetime.now(UTC)


class Capture:
    """Captures the inferences of one model version into ``data_dir``.

    ``sampling`` is the share kept, per inference id when ``deterministic_sampling`` (so a
    prediction and its label are kept together), else at random. The other parameters are the
    :class:`~modelmon.capture.writer.CaptureWriter`'s. ``clock`` gives the inference time and
    ``timer`` (seconds, monotonic) measures latency in :meth:`wrap`; tests pass fakes.
    """

    def __init__(
        self,
        model: str,
        version: str = "default",
        *,
        data_dir: str | os.PathLike[str],
        sampling: float = 1.0,
        deterministic_sampling: bool = True,
        queue_size: int = 10_000,
        flush_interval: float = 1.0,
        max_batch: int = 5_000,
        clock: Callable[[], datetime] = _now,
        timer: Callable[[], float] = _time.perf_counter,
    ) -> None:
        self.model = check_name(model, "model", "Capture")
        self.version = check_name(version, "version", "Capture")
        self._clock = clock
        self._timer = timer
        self.writer = CaptureWriter(
            data_dir,
            sampling=sampling,
            deterministic_sampling=deterministic_sampling,
            queue_size=queue_size,
            flush_interval=flush_interval,
            max_batch=max_batch,
            clock=clock,
        )

    # -- one inference -----------------------------------------------------------------------

    def log(
        self,
        inputs: object,
        outputs: object = None,
        *,
        inference_id: str | None = None,
        latency_ms: float | None = None,
        error: str | BaseException | None = None,
        time: datetime | None = None,
    ) -> str:
        """Capture one inference; return its id (``inference_id``, or a new one).

        ``inputs``/``outputs``: a mapping (named values), a sequence or 1-D array (values by
        position), a scalar, or a list of those for a request of several instances. For a
        DataFrame or Arrow table of many inferences use :meth:`log_batch`.
        """
        if _is_table(inputs):
            raise ConfigError(
                "The 'inputs' parameter of Capture.log must be the values of one inference. "
                f"Got a {type(inputs).__name__} instead; log a table with Capture.log_batch."
            )
        if inference_id is None:
            inference_id = new_inference_id()
        if not self.writer.should_sample(inference_id):
            return inference_id
        try:
            record = LoggedInference(
                model=self.model,
                version=self.version,
                inference_id=str(inference_id),
                time=self._clock() if time is None else time,
                inputs=_snapshot(inputs),
                outputs=_snapshot(outputs),
                latency_ms=None if latency_ms is None else float(latency_ms),
                error=_error_text(error),
            )
            self.writer.submit_logged(record)
        except Exception:  # capture must never break the model it watches
            _log.exception("could not capture inference %s", inference_id)
        return inference_id

    # -- many inferences -----------------------------------------------------------------------

    def log_batch(
        self,
        inputs: Any,
        outputs: Any = None,
        *,
        inference_ids: str | Sequence[str] | None = None,
        latency_ms: float | None = None,
        error: str | BaseException | None = None,
        time: datetime | None = None,
    ) -> list[str]:
        """Capture a table of inferences (pandas or polars DataFrame, Arrow table), one per row,
        with their ``outputs`` (a table, a Series, an array of one value or one row per input
        row, or None); return the inference ids of all rows, kept or sampled out.

        ``inference_ids``: a column of ``inputs`` holding them (the column is not a feature), a
        sequence of one id per row, or None for new ids. ``latency_ms`` and ``error`` apply to
        every row (the latency of the call that scored the batch).
        """
        table = _as_table(inputs, "inputs")
        rows = table.num_rows
        if rows == 0:
            return []
        ids = self._batch_ids(table, inference_ids)
        if isinstance(inference_ids, str):
            table = table.drop_columns([inference_ids])
        result = _features(table, INPUT_PREFIX)
        if outputs is not None:
            result = _features(_outputs_table(outputs, rows), OUTPUT_PREFIX) + result
        keep = [self.writer.should_sample(inference_id) for inference_id in ids]
        if not any(keep):
            return ids
        moment = utc(self._clock() if time is None else time)
        constants = {
            "inference_time": moment,
            "model": self.model,
            "version": self.version,
            "row_index": 0,
            "latency_ms": latency_ms,
            "error": _error_text(error),
            "source": "sdk",
        }
        arrays = [
            pa.array(ids, pa.string())
            if f.name == "inference_id"
            else pa.repeat(pa.scalar(constants.get(f.name), f.type), rows)
            for f in METADATA_SCHEMA
        ]
        names = [*METADATA_SCHEMA.names, *(name for name, _ in result)]
        batch = pa.Table.from_arrays([*arrays, *(array for _, array in result)], names=names)
        if not all(keep):
            batch = batch.filter(pa.array(keep))
        self.writer.submit_logged(LoggedBatch(self.model, self.version, batch))
        return ids

    def _batch_ids(self, table: pa.Table, given: str | Sequence[str] | None) -> list[str]:
        rows = table.num_rows
        if given is None:
            return [new_inference_id() for _ in range(rows)]
        if isinstance(given, str):
            if given not in table.column_names:
                raise ConfigError(
                    "The 'inference_ids' parameter of Capture.log_batch must name a column of "
                    f"the inputs ({', '.join(table.column_names)}). Got {given!r} instead."
                )
            values = table[given].to_pylist()
        else:
            values = list(given)
        if len(values) != rows or any(value is None for value in values):
            raise ConfigError(
                "The 'inference_ids' parameter of Capture.log_batch must give one id per input "
                f"row ({rows}). Got {len(values)} values, {sum(v is None for v in values)} "
                "missing, instead."
            )
        return [str(value) for value in values]

    # -- a decorator -----------------------------------------------------------------------------

    @overload
    def wrap(self, function: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def wrap(
        self, function: None = None, /, *, id_arg: str | None = None
    ) -> Callable[[Callable[P, R]], Callable[P, R]]: ...

    def wrap(
        self, function: Callable[P, R] | None = None, /, *, id_arg: str | None = None
    ) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
        """Capture every call of a predict function (sync or async): its arguments as inputs,
        its return value as outputs, its latency, and an exception (recorded, then re-raised).

        One argument (besides ``self``) is the inputs, as they are when the call returns; several
        are logged as a mapping of their names. A DataFrame or Arrow table argument is logged
        with :meth:`log_batch`.
        ``id_arg`` names the argument holding the inference id (it is not an input).
        """

        def decorate(function: Callable[P, R]) -> Callable[P, R]:
            return self._wrapped(function, id_arg)

        return decorate if function is None else decorate(function)

    def _wrapped(self, function: Callable[P, R], id_arg: str | None) -> Callable[P, R]:
        signature = inspect.signature(function)
        if id_arg is not None and id_arg not in signature.parameters:
            raise ConfigError(
                f"The 'id_arg' parameter of Capture.wrap must name a parameter of "
                f"{function.__qualname__} ({', '.join(signature.parameters)}). "
                f"Got {id_arg!r} instead."
            )

        def inputs_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[object, Any]:
            bound = signature.bind(*args, **kwargs).arguments
            bound.pop("self", None)
            bound.pop("cls", None)
            inference_id = None if id_arg is None else bound.pop(id_arg, None)
            values: object = next(iter(bound.values())) if len(bound) == 1 else dict(bound)
            return values, inference_id

        def record(
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
            started: float,
            moment: datetime,
            result: object,
            error: BaseException | None,
        ) -> None:
            latency = (self._timer() - started) * 1000.0
            try:
                values, inference_id = inputs_of(args, kwargs)
                if _is_table(values):
                    self.log_batch(
                        values,
                        result,
                        inference_ids=inference_id,
                        latency_ms=latency,
                        error=error,
                        time=moment,
                    )
                else:
                    self.log(
                        values,
                        result,
                        inference_id=None if inference_id is None else str(inference_id),
                        latency_ms=latency,
                        error=error,
                        time=moment,
                    )
            except Exception:  # capture must never break the model it watches
                _log.exception("could not capture a call of %s", function.__qualname__)

        if inspect.iscoroutinefunction(function):
            coroutine = cast("Callable[P, Awaitable[Any]]", function)

            @functools.wraps(function)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                moment, started = self._clock(), self._timer()
                try:
                    result = await coroutine(*args, **kwargs)
                except Exception as error:
                    record(args, kwargs, started, moment, None, error)
                    raise
                record(args, kwargs, started, moment, result, None)
                return result

            return cast("Callable[P, R]", async_wrapper)

        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            moment, started = self._clock(), self._timer()
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                record(args, kwargs, started, moment, None, error)
                raise
            record(args, kwargs, started, moment, result, None)
            return result

        return wrapper

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def stats(self) -> CaptureStats:
        return self.writer.stats

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything logged so far is on disk."""
        self.writer.flush(timeout)

    def close(self) -> None:
        """Write everything logged and stop; also done at exit and on SIGTERM."""
        self.writer.close()

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error_text(error: str | BaseException | None) -> str | None:
    if error is None or isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"


def _snapshot(value: object) -> object:
    """A shallow copy of a mutable value, so a caller reusing its dict or array after ``log``
    returns does not change what is written."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    copy = getattr(value, "copy", None)  # numpy arrays, pandas Series
    return copy() if callable(copy) else value


def _is_table(value: object) -> bool:
    if isinstance(value, dict | list | str | int | float) or value is None:
        return False  # the usual single-inference values, answered fast
    if isinstance(value, pa.Table | pa.RecordBatch):
        return True
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.split(".")[0] in ("pandas", "polars")


def _as_table(value: Any, parameter: str) -> pa.Table:
    if not _is_table(value):
        raise ConfigError(
            f"The {parameter!r} parameter of Capture.log_batch must be a pandas or polars "
            f"DataFrame or an Arrow table. Got {type(value).__name__} instead."
        )
    if len(value) == 0:
        return pa.table({})
    dataset = open_dataset(value)
    return pa.Table.from_batches(list(dataset.batches()), schema=dataset.schema)


def _outputs_table(outputs: Any, rows: int) -> pa.Table:
    """Outputs of a batch as a table of ``rows`` rows."""
    if _is_table(outputs):
        table = _as_table(outputs, "outputs")
    else:
        name = getattr(outputs, "name", None)  # a named pandas/polars Series
        array = np.asarray(outputs)
        if array.ndim == 1:
            table = pa.table({str(name) if isinstance(name, str) else "_c0": array})
        elif array.ndim == 2:
            table = pa.table({f"_c{k}": array[:, k] for k in range(array.shape[1])})
        else:
            raise ConfigError(
                "The 'outputs' parameter of Capture.log_batch must hold one value or one row "
                f"per input row. Got an array of shape {array.shape} instead."
            )
    if table.num_rows != rows:
        raise ConfigError(
            "The 'outputs' parameter of Capture.log_batch must have one row per input row "
            f"({rows}). Got {table.num_rows} rows instead."
        )
    return table


def _features(table: pa.Table, prefix: str) -> list[tuple[str, pa.ChunkedArray]]:
    """The columns of ``table`` named for storage; a frame with numbered columns (0, 1, ...)
    has its values by position, named ``_c<k>`` as in SageMaker's layout."""
    names = table.column_names
    positional = bool(names) and all(name.isdigit() for name in names)
    return [(prefix + (f"_c{name}" if positional else name), table[name]) for name in names]
