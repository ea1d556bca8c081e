"""User management: pure functions over a SQLAlchemy engine (the store's), used by CLI and API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from istvhub._errors import IstvhubError
from istvhub.api import security
from istvhub.api.tables import ROLES, api_tokens, api_user_scopes, api_users, ensure_tables
from istvhub.store.schema import departments as departments_table


class UserError(IstvhubError):
    """A user-management request is invalid (unknown role, missing scope, duplicate name)."""


@dataclass(frozen=True)
class User:
    """Who is calling, and what they may see."""

    user_id: int
    name: str
    role: str
    departments: tuple[str, ...] = field(default_factory=tuple)
    boroughs: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
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


def _known_departments(conn) -> set[str]:
    try:
        return {r[0] for r in conn.execute(sa.select(departments_table.c.ods_code))}
    except sa.exc.DBAPIError:
        return set()


def add_user(
    engine,
    name: str,
    role: str,
    *,
    departments: Iterable[str] = (),
    boroughs: Iterable[str] = (),
    expires_days: int | None = None,
    known_boroughs: Iterable[str] | None = None,
) -> tuple[User, str]:
    """Create a user and a first token; returns (user, token). The token is not stored."""
    ensure_tables(engine)
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
    with engine.begin() as conn:
        known_d = _known_departments(conn)
        if known_d and any(d not in known_d for d in depts):
            raise UserError("field 'department': not in the department registry")
        exists = conn.execute(sa.select(api_users.c.user_id).where(api_users.c.name == name))
        if exists.first() is not None:
            raise UserError("field 'name': a user with this name already exists")
        uid = conn.execute(
            api_users.insert().values(name=name, role=role, created_at=_now())
        ).inserted_primary_key[0]
        rows = [{"user_id": uid, "kind": "department", "value": d} for d in depts]
        rows += [{"user_id": uid, "kind": "borough", "value": b} for b in bors]
        if rows:
            conn.execute(api_user_scopes.insert(), rows)
        token = _insert_token(conn, uid, expires_days)
    return User(uid, name, role, depts, bors), token


def _insert_token(conn, user_id: int, expires_days: int | None) -> str:
    token = security.new_token()
    now = _now()
    conn.execute(
        api_tokens.insert().values(
            user_id=user_id,
            token_sha256=security.hash_token(token),
            prefix=token[:9],
            created_at=now,
            expires_at=(now + timedelta(days=expires_days)) if expires_days else None,
        )
    )
    return token


def issue_token(engine, name: str, expires_days: int | None = None) -> str:
    """A new token for an existing, active user (old tokens stay valid until revoked)."""
    ensure_tables(engine)
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(api_users.c.user_id).where(
                api_users.c.name == name, api_users.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            raise UserError("field 'name': no active user with this name")
        return _insert_token(conn, row[0], expires_days)


def _load_user(conn, user_id: int, name: str, role: str) -> User:
    scopes = conn.execute(
        sa.select(api_user_scopes.c.kind, api_user_scopes.c.value).where(
            api_user_scopes.c.user_id == user_id
        )
    ).all()
    return User(
        user_id,
        name,
        role,
        tuple(sorted(v for k, v in scopes if k == "department")),
        tuple(v for k, v in scopes if k == "borough"),
    )


def authenticate(engine, token: str | None) -> User | None:
    """The active user holding this live token, or None."""
    if not security.looks_like_token(token):
        return None
    digest = security.hash_token(token)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                api_tokens.c.token_sha256,
                api_tokens.c.expires_at,
                api_tokens.c.revoked_at,
                api_users.c.user_id,
                api_users.c.name,
                api_users.c.role,
                api_users.c.revoked_at.label("user_revoked"),
            )
            .join(api_users, api_users.c.user_id == api_tokens.c.user_id)
            .where(api_tokens.c.token_sha256 == digest)
        ).first()
        if row is None or not security.digest_matches(token, row.token_sha256):
            return None
        if row.user_revoked is not None:
            return None
        if not security.is_live(row.expires_at, row.revoked_at):
            return None
        return _load_user(conn, row.user_id, row.name, row.role)


def list_users(engine) -> list[dict]:
    """Every user with role, scopes, status and token count (never token material)."""
    ensure_tables(engine)
    out = []
    with engine.connect() as conn:
        users = conn.execute(sa.select(api_users).order_by(api_users.c.name)).all()
        for u in users:
            user = _load_user(conn, u.user_id, u.name, u.role)
            n_tokens = conn.execute(
                sa.select(sa.func.count())
                .select_from(api_tokens)
                .where(api_tokens.c.user_id == u.user_id, api_tokens.c.revoked_at.is_(None))
            ).scalar_one()
            d = user.as_dict()
            d.update(
                active=u.revoked_at is None,
                live_tokens=int(n_tokens),
                created_at=u.created_at.isoformat() if u.created_at else None,
            )
            out.append(d)
    return out


def revoke_user(engine, name: str) -> int:
    """Revoke a user and all their tokens at once; returns the number of tokens revoked."""
    ensure_tables(engine)
    now = _now()
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(api_users.c.user_id, api_users.c.revoked_at).where(api_users.c.name == name)
        ).first()
        if row is None:
            raise UserError("field 'name': no user with this name")
        conn.execute(
            api_users.update()
            .where(api_users.c.user_id == row.user_id)
            .values(revoked_at=row.revoked_at or now)
        )
        res = conn.execute(
            api_tokens.update()
            .where(api_tokens.c.user_id == row.user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(res.rowcount or 0)


def rotate_token(engine, name: str, expires_days: int | None = None) -> tuple[str, int]:
    """Revoke every live token of an active user and issue one new token, in one transaction;
    returns (new token, tokens revoked). The new token is shown once, like the first."""
    ensure_tables(engine)
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(api_users.c.user_id).where(
                api_users.c.name == name, api_users.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            raise UserError("field 'name': no active user with this name")
        res = conn.execute(
            api_tokens.update()
            .where(api_tokens.c.user_id == row[0], api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        return _insert_token(conn, row[0], expires_days), int(res.rowcount or 0)
