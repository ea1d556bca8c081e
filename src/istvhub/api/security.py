"""API tokens: random, shown once, stored only as a SHA-256 digest, compared in constant time.

A token is ``istv_`` + ``secrets.token_urlsafe(32)`` (256 bits of entropy), so a plain SHA-256 is
enough (no slow hash needed: there is nothing to brute-force as with passwords).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

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
    return token is not None and token.startswith(TOKEN_PREFIX) and 20 < len(token) < 200


def token_from_authorization(header: str | None) -> str | None:
    """The token in an ``Authorization`` header: ``Bearer <token>``, or ``Basic`` with the token
    as the password (user name ignored). QGIS 3.22, ArcGIS and GDAL can send Basic credentials
    but not a custom header; both forms then go through the same checks and the same limiter."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return value or None
    if scheme != "basic" or not value or len(value) > 1024:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    _, sep, password = decoded.partition(":")
    return password.strip() or None if sep else None


def is_live(
    expires_at: datetime | None, revoked_at: datetime | None, now: datetime | None = None
) -> bool:
    """A token works until it is revoked or expires."""
    if revoked_at is not None:
        return False
    if expires_at is None:
        return True
    now = now or datetime.now(UTC)
    if expires_at.tzinfo is None:  # SQLite returns naive datetimes; we always store UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return now < expires_at


class FailedAuthLimiter:
    """Failed-authentication rate limit per client address (sliding window, in process).

    After ``limit`` presented-but-invalid tokens within ``window_s`` seconds, every request from
    that address that tries to authenticate gets 429 until the oldest failure leaves the window
    (a valid token included: an attacker cannot keep probing). The state lives in one worker
    process, so with ``istvhub serve --workers N`` a client gets at most ``N * limit`` tries per
    window in total; put a reverse proxy limit in front for a hard global figure.
    """

    def __init__(
        self, limit: int = 20, window_s: float = 60.0, clock: Callable[[], float] | None = None
    ) -> None:
        import threading
        import time
        from collections import deque

        self.limit = int(limit)
        self.window_s = float(window_s)
        self._clock = clock or time.monotonic
        self._fails: dict[str, deque[float]] = {}
        self._deque = deque
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> Any:
        q = self._fails.get(key)
        if q is None:
            return None
        while q and now - q[0] >= self.window_s:
            q.popleft()
        if not q:
            del self._fails[key]
            return None
        return q

    def retry_after(self, client: str | None) -> int:
        """Seconds until ``client`` may try again; 0 when it is not blocked."""
        key = client or "?"
        with self._lock:
            now = self._clock()
            q = self._trim(key, now)
            if q is None or len(q) < self.limit:
                return 0
            return max(1, int(self.window_s - (now - q[0])) + 1)

    def failed(self, client: str | None) -> None:
        """Record one failed attempt from ``client``."""
        key = client or "?"
        with self._lock:
            now = self._clock()
            q = self._trim(key, now)
            if q is None:
                q = self._fails[key] = self._deque()
            q.append(now)
            if len(self._fails) > 10_000:  # bound memory under a spray from many addresses
                for k in list(self._fails)[:5_000]:
                    self._trim(k, now)
