from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from modelmon.errors import NotFoundError
from modelmon.store import Store
from modelmon.store._schema import tokens

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_token_is_stored_hashed_and_verified(store: Store) -> None:
    token_id, secret = store.tokens.create_token("ci", now=T0)
    assert secret.startswith("mm_")
    assert len(secret) > 40
    with store.engine.connect() as connection:
        stored = connection.execute(select(tokens)).one()
    assert secret not in [str(value) for value in stored]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()

    info = store.tokens.verify_token(secret)
    assert info is not None
    assert (info.id, info.name, info.created_at, info.revoked_at) == (token_id, "ci", T0, None)
    assert store.tokens.verify_token(secret + "x") is None
    assert store.tokens.verify_token("") is None


def test_revoked_tokens_no_longer_verify(store: Store) -> None:
    token_id, secret = store.tokens.create_token("ci", now=T0)
    other_id, other = store.tokens.create_token("dashboard", now=T0)
    assert other != secret
    store.tokens.revoke_token(token_id, now=T0 + timedelta(days=1))
    store.tokens.revoke_token(token_id, now=T0 + timedelta(days=2))  # a no-op the second time
    assert store.tokens.verify_token(secret) is None
    assert store.tokens.verify_token(other) is not None
    listed = store.tokens.list_tokens()
    assert [(t.id, t.revoked_at) for t in listed] == [
        (token_id, T0 + timedelta(days=1)),
        (other_id, None),
    ]
    with pytest.raises(NotFoundError, match="no API token with id 999"):
        store.tokens.revoke_token(999, now=T0)
