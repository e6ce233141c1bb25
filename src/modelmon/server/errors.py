"""Errors as JSON: every 4xx names what was wrong, and a bug is a 500 that says so.

Body: ``{"error": {"type": ..., "message": ..., "field": ..., ...}}``; an InputError adds its
path, line, column, expected and found.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelmon.errors import InputError, ModelmonError

__all__ = ["error_body", "install_error_handlers"]

_log = logging.getLogger(__name__)


def error_body(kind: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **details}}


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "records", 3, "inference_time") -> "records[3].inference_time"
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if len(parts) > 1 else parts
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ModelmonError)
    async def modelmon_error(request: Request, error: ModelmonError) -> JSONResponse:
        details: dict[str, Any] = {}
        if isinstance(error, InputError):
            details = {
                key: value
                for key in ("path", "line", "column", "expected", "found")
                if (value := getattr(error, key)) is not None
            }
        status = error.http_status if 400 <= error.http_status < 500 else 500
        return JSONResponse(
            error_body(type(error).__name__, str(error), **details), status_code=status
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field(item.get("loc", ())), "message": item.get("msg", "invalid")}
            for item in error.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more problem(s))"
        return JSONResponse(
            error_body("ValidationError", message, field=first["field"], problems=problems),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body("HTTPError", str(error.detail)),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        _log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(
                "InternalError",
                f"internal error: {type(error).__name__}: {error}. This is a bug in modelmon; "
                "please report it with the request you made.",
            ),
            status_code=500,
        )
