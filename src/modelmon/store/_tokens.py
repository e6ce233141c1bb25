"""API tokens, stored hashed.

A secret is 32 random bytes (256 bits), and only its SHA-256 is stored. A slow password hash
(scrypt, PBKDF2) exists to make guessing low-entropy passwords expensive; a 256-bit random secret
cannot be guessed, so it would only add tens of milliseconds to every API request. A fast hash
also lets the database find the token by an indexed lookup of the hash, and a leaked table gives
nothing that can be presented as a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from modelmon.errors import NotFoundError
from modelmon.store._records import TokenInfo
from modelmon.store._schema import tokens
from modelmon.store._types import AnyRow, require_utc

__all__ = ["TOKEN_PREFIX", "TokenStore"]

# Makes leaked tokens recognisable to secret scanners and to people.
TOKEN_PREFIX = "mm_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(row: AnyRow) -> TokenInfo:
    return TokenInfo(id=row.id, name=row.name, created_at=row.created_at, revoked_at=row.revoked_at)


_INFO_COLUMNS = (tokens.c.id, tokens.c.name, tokens.c.created_at, tokens.c.revoked_at)


class TokenStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_token(self, name: str, *, now: datetime) -> tuple[int, str]:
        """A new token: its id and the secret, which is shown once and never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._engine.begin() as connection:
            token_id = connection.execute(
                insert(tokens)
                .values(name=name, secret_hash=_hash(secret), created_at=require_utc(now, "now"))
                .returning(tokens.c.id)
            ).scalar_one()
        return token_id, secret

    def verify_token(self, secret: str) -> TokenInfo | None:
        """The token a secret belongs to, or None if it is unknown or revoked."""
        digest = _hash(secret)
        with self._engine.connect() as connection:
            row = connection.execute(
                select(*_INFO_COLUMNS, tokens.c.secret_hash).where(tokens.c.secret_hash == digest)
            ).one_or_none()
        # Found through the index on the hash: timing can at most reveal bits of a SHA-256,
        # which do not help forge a secret. The final decision is still a constant-time compare.
        if row is None or not hmac.compare_digest(row.secret_hash, digest):
            return None
        return None if row.revoked_at is not None else _info(row)

    def revoke_token(self, token_id: int, *, now: datetime) -> None:
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(tokens)
                .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
                .values(revoked_at=require_utc(now, "now"))
            ).rowcount
        if changed == 0:
            self._get(token_id)  # NotFoundError when it does not exist; revoking twice is a no-op

    def any_active(self) -> bool:
        """Whether any token is unrevoked: once one is, writes to the server need a token."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(tokens.c.id).where(tokens.c.revoked_at.is_(None)).limit(1)
            ).first()
        return row is not None

    def list_tokens(self) -> list[TokenInfo]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(*_INFO_COLUMNS).order_by(tokens.c.id)).all()
        return [_info(row) for row in rows]

    def _get(self, token_id: int) -> TokenInfo:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(*_INFO_COLUMNS).where(tokens.c.id == token_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError(f"There is no API token with id {token_id}.")
        return _info(row)
