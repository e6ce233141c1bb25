"""Write endpoints need a token once one exists: ``Authorization: Bearer <token>``.

A fresh server has no tokens and is open, so the demo and a first try need no setup; the first
``modelmon tokens create`` closes every write endpoint. Reads stay open (the dashboard).
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from modelmon.server.state import ServerState
from modelmon.store import TokenInfo

__all__ = ["require_write", "state_of"]


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.modelmon
    return state


def require_write(request: Request) -> TokenInfo | None:
    """FastAPI dependency of every write endpoint."""
    store = state_of(request).store
    if not store.tokens.any_active():
        return None
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise HTTPException(
            401,
            "This server requires an API token for writes: send 'Authorization: Bearer <token>' "
            "(create one with 'modelmon tokens create').",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = store.tokens.verify_token(secret.strip())
    if token is None:
        raise HTTPException(
            401, "The API token is unknown or revoked.", headers={"WWW-Authenticate": "Bearer"}
        )
    return token
