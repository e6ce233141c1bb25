"""A model behind an HTTP endpoint: rows are POSTed in batches, predictions parsed back.

Requests (``content_type``):

* ``application/json`` (default): ``[{"feature": value, ...}, ...]``, one object per row;
* ``text/csv``: one line per row, the values in feature order, no header (SageMaker's format).

Responses: JSON (a list of numbers, a list of rows, a list of objects with a ``score_key`` member
(default: the first of ``score``, ``probability``, ``prediction``, ``predicted_label``), or an
object holding such a list under ``predictions``/``scores``/``probabilities``/``outputs``), or
CSV/text with one line of numbers per row. An endpoint that cannot be reached, answers an error
status, or returns something else is an :class:`InputError` naming the URL.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import numpy as np

from modelmon.errors import ConfigError, InputError
from modelmon.models.base import Model, Scores, as_scores, json_scalar

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CONTENT_TYPES", "EndpointModel"]

CONTENT_TYPES = ("application/json", "text/csv")
_SCORE_KEYS = ("score", "probability", "prediction", "predicted_label")
_LIST_KEYS = ("predictions", "scores", "probabilities", "outputs")


class EndpointModel(Model):
    def __init__(
        self,
        url: str,
        *,
        content_type: str = "application/json",
        batch_size: int = 1000,
        timeout: float = 30.0,
        score_key: str | None = None,
    ) -> None:
        if content_type not in CONTENT_TYPES:
            raise ConfigError(
                f"The 'content_type' parameter of EndpointModel must be one of "
                f"{', '.join(CONTENT_TYPES)}. Got {content_type!r} instead."
            )
        self.url = url
        self.description = url
        self.content_type = content_type
        self.batch_size = batch_size
        self.timeout = timeout
        self.score_key = score_key

    def predict(self, rows: pd.DataFrame) -> Scores:
        parts = [
            self._score(rows.iloc[start : start + self.batch_size])
            for start in range(0, len(rows), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 1))

    def _score(self, rows: pd.DataFrame) -> Scores:
        if self.content_type == "text/csv":
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows.itertuples(index=False))
            body = buffer.getvalue().encode("utf-8")
        else:
            records = [
                {k: json_scalar(v) for k, v in zip(rows.columns, row, strict=True)}
                for row in rows.itertuples(index=False)
            ]
            body = json.dumps(records).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": self.content_type, "Accept": "application/json, text/csv"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                kind = response.headers.get_content_type()
                text = response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", errors="replace")[:200]
            raise InputError(
                f"the model endpoint answered HTTP {error.code}: {detail.strip() or error.reason}",
                path=self.url,
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise InputError(
                f"the model endpoint cannot be reached: {reason}", path=self.url
            ) from None
        return as_scores(self._parse(text, kind), len(rows), self.url)

    def _parse(self, text: str, kind: str) -> Any:
        stripped = text.strip()
        if kind == "application/json" or stripped[:1] in ("[", "{"):
            try:
                return self._from_json(json.loads(stripped))
            except json.JSONDecodeError as error:
                raise InputError(
                    f"the model endpoint's answer is not valid JSON: {error.msg}",
                    path=self.url,
                    found=stripped[:80],
                ) from None
        lines = [line for line in stripped.splitlines() if line.strip()]
        try:
            return [[float(cell) for cell in line.split(",")] for line in lines]
        except ValueError:
            raise InputError(
                "the model endpoint's answer is neither JSON nor lines of numbers",
                path=self.url,
                found=stripped[:80],
            ) from None

    def _from_json(self, value: Any) -> Any:
        if isinstance(value, dict):
            for key in _LIST_KEYS:
                if key in value:
                    return self._from_json(value[key])
            raise InputError(
                "the model endpoint's JSON answer holds no predictions",
                path=self.url,
                expected="a list, or an object with " + ", ".join(repr(k) for k in _LIST_KEYS),
                found="keys " + ", ".join(repr(k) for k in list(value)[:5]),
            )
        if isinstance(value, list) and value and isinstance(value[0], dict):
            keys: tuple[str, ...] = (self.score_key,) if self.score_key else _SCORE_KEYS
            score = next((k for k in keys if k in value[0]), None)
            if score is None:
                raise InputError(
                    "the model endpoint's answer has no score in its objects",
                    path=self.url,
                    expected="a member " + " or ".join(repr(k) for k in keys),
                    found="keys " + ", ".join(repr(k) for k in list(value[0])[:5]),
                )
            return [item.get(score) for item in value]
        return value
