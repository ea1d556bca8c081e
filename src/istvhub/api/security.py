"""API tokens: random, shown once, stored only as a SHA-256 digest, compared in constant time.

A token is ``istv_`` + ``secrets.token_urlsafe(32)`` (256 bits of entropy), so a plain SHA-256 is
enough (no slow hash needed: there is nothing to brute-force as with passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

TOKEN_PREFIX = "istv_"


def new_token() -> str:
    """A fresh bearer token (printed once to whoever creates the user)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Hex SHA-256 of the token: the only form the database ever holds."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def digest_matches(token: str, stored_sha256: str) -> bool:
    """Constant-time comparison of a presented token with a stored digest."""
    return hmac.compare_digest(hash_token(token).encode(), stored_sha256.encode())


def looks_like_token(token: str | None) -> bool:
    """Cheap shape check before touching the database."""
    return bool(token) and token.startswith(TOKEN_PREFIX) and 20 < len(token) < 200


def is_live(expires_at: datetime | None, revoked_at: datetime | None,
            now: datetime | None = None) -> bool:
    """A token works until it is revoked or expires."""
    if revoked_at is not None:
        return False
    if expires_at is None:
        return True
    now = now or datetime.now(UTC)
    if expires_at.tzinfo is None:  # SQLite returns naive datetimes; we always store UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return now < expires_at
