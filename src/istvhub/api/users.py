"""User management (validation, tokens) over the store's users repository, used by CLI and API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from istvhub._errors import UserError
from istvhub.api import security
from istvhub.store.repos import Db
from istvhub.store.repos import users as repo
from istvhub.store.repos.users import ROLES

__all__ = [
    "ROLES",
    "User",
    "UserError",
    "add_user",
    "authenticate",
    "list_users",
    "revoke_user",
    "rotate_token",
]


@dataclass(frozen=True)
class User:
    """Who is calling, and what they may see."""

    user_id: int
    name: str
    role: str
    departments: tuple[str, ...] = field(default_factory=tuple)
    boroughs: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "departments": list(self.departments),
            "boroughs": list(self.boroughs),
        }


def _now() -> datetime:
    return datetime.now(UTC)


def _norm_borough(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).lower()


def canonical_borough(name: str, known: Iterable[str]) -> str | None:
    """Match a borough name case- and spacing-insensitively to one of ``known``."""

    def key(n: str) -> str:
        return _norm_borough(n).replace(" & ", " and ")

    known = list(known)
    want = key(name)
    for k in known:
        if key(k) == want:
            return k
    for prefix in ("city of ", "london borough of ", "royal borough of "):
        if want.startswith(prefix):
            return canonical_borough(want[len(prefix) :], known)
    return None


def add_user(
    db: Db,
    name: str,
    role: str,
    *,
    departments: Iterable[str] = (),
    boroughs: Iterable[str] = (),
    expires_days: int | None = None,
    known_boroughs: Iterable[str] | None = None,
) -> tuple[User, str]:
    """Create a user and a first token; returns (user, token). The token is not stored."""
    repo.ensure_tables(db)
    name = name.strip()
    if not name or len(name) > 80:
        raise UserError("field 'name': must be 1-80 characters")
    if role not in ROLES:
        raise UserError(f"field 'role': must be one of {', '.join(ROLES)}")
    depts = tuple(sorted({d.strip().upper() for d in departments if d.strip()}))
    bors = tuple(dict.fromkeys(b.strip() for b in boroughs if b.strip()))
    if role == "ed_analyst" and not depts:
        raise UserError("field 'department': an ED analyst needs at least one --department")
    if role == "csp_analyst" and not bors:
        raise UserError("field 'borough': a CSP analyst needs at least one --borough")
    if role in ("mopac", "admin") and (depts or bors):
        raise UserError(
            "field 'role': mopac and admin users are London-wide; give no --department/--borough"
        )
    if known_boroughs is not None and bors:
        known = list(known_boroughs)
        fixed = []
        for b in bors:
            c = canonical_borough(b, known)
            if c is None:
                raise UserError("field 'borough': not a London borough name")
            fixed.append(c)
        bors = tuple(dict.fromkeys(fixed))
    token, row = _new_token(expires_days)
    uid = repo.create(db, name, role, depts, bors, row)
    return User(uid, name, role, depts, bors), token


def _new_token(expires_days: int | None) -> tuple[str, repo.NewToken]:
    token = security.new_token()
    now = _now()
    expires = (now + timedelta(days=expires_days)) if expires_days else None
    return token, repo.NewToken(security.hash_token(token), token[:9], now, expires)


def issue_token(db: Db, name: str, expires_days: int | None = None) -> str:
    """A new token for an existing, active user (old tokens stay valid until revoked)."""
    repo.ensure_tables(db)
    token, row = _new_token(expires_days)
    repo.add_token(db, name, row)
    return token


def authenticate(db: Db, token: str | None) -> User | None:
    """The active user holding this live token, or None."""
    if token is None or not security.looks_like_token(token):
        return None
    h = repo.holder(db, security.hash_token(token))
    if h is None or not security.digest_matches(token, h.token_sha256):
        return None
    if h.user_revoked_at is not None or not security.is_live(h.expires_at, h.revoked_at):
        return None
    return User(h.user_id, h.name, h.role, h.departments, h.boroughs)


def list_users(db: Db) -> list[dict[str, Any]]:
    """Every user with role, scopes, status and token count (never token material)."""
    repo.ensure_tables(db)
    out = []
    for u in repo.list_all(db):
        d = User(u["user_id"], u["name"], u["role"], u["departments"], u["boroughs"]).as_dict()
        d.update(
            active=u["revoked_at"] is None,
            live_tokens=u["live_tokens"],
            created_at=u["created_at"].isoformat() if u["created_at"] else None,
        )
        out.append(d)
    return out


def revoke_user(db: Db, name: str) -> int:
    """Revoke a user and all their tokens at once; returns the number of tokens revoked."""
    repo.ensure_tables(db)
    return repo.revoke(db, name, _now())


def rotate_token(db: Db, name: str, expires_days: int | None = None) -> tuple[str, int]:
    """Revoke every live token of the active user ``name`` and issue one new token, in one
    transaction; returns (new token, tokens revoked). The new token is shown once."""
    repo.ensure_tables(db)
    token, row = _new_token(expires_days)
    return token, repo.rotate(db, name, row)
