"""API users, their scopes (departments or boroughs they may see) and tokens (digests only).

The API's ``istvhub.api.users`` validates requests and makes tokens; this module only stores and
finds them. Refusals that depend on what is stored raise ``UserError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from istvhub._errors import UserError
from istvhub.store.repos._db import Db, engine_of
from istvhub.store.schema import (
    ROLES,
    api_tokens,
    api_user_scopes,
    api_users,
    departments,
    metadata,
)

__all__ = ["API_TABLES", "ROLES", "Holder", "NewToken"]

API_TABLES = (api_users, api_user_scopes, api_tokens)


@dataclass(frozen=True)
class NewToken:
    """What is stored of a token: its digest, first characters, creation and expiry."""

    sha256: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Holder:
    """The user a token digest belongs to, with the token's and the user's state."""

    user_id: int
    name: str
    role: str
    departments: tuple[str, ...]
    boroughs: tuple[str, ...]
    token_sha256: str
    expires_at: datetime | None
    revoked_at: datetime | None
    user_revoked_at: datetime | None


def ensure_tables(db: Db) -> None:
    """Create the users tables if missing (a store's schema step already made them)."""
    metadata.create_all(engine_of(db), tables=list(API_TABLES), checkfirst=True)


def _insert_token(conn: sa.Connection, user_id: int, token: NewToken) -> None:
    conn.execute(
        api_tokens.insert().values(
            user_id=user_id,
            token_sha256=token.sha256,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
    )


def _scopes(conn: sa.Connection, user_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = conn.execute(
        sa.select(api_user_scopes.c.kind, api_user_scopes.c.value).where(
            api_user_scopes.c.user_id == user_id
        )
    ).all()
    return (
        tuple(sorted(v for k, v in rows if k == "department")),
        tuple(v for k, v in rows if k == "borough"),
    )


def create(
    db: Db,
    name: str,
    role: str,
    departments_: Sequence[str],
    boroughs: Sequence[str],
    token: NewToken,
) -> int:
    """Insert a user, their scopes and a first token in one transaction; returns the user id."""
    with engine_of(db).begin() as conn:
        try:
            known = {r[0] for r in conn.execute(sa.select(departments.c.ods_code))}
        except sa.exc.DBAPIError:
            known = set()
        if known and any(d not in known for d in departments_):
            raise UserError("field 'department': not in the department registry")
        exists = conn.execute(sa.select(api_users.c.user_id).where(api_users.c.name == name))
        if exists.first() is not None:
            raise UserError("field 'name': a user with this name already exists")
        uid = int(
            conn.execute(
                api_users.insert()
                .values(name=name, role=role, created_at=token.created_at)
                .returning(api_users.c.user_id)
            ).scalar_one()
        )
        rows = [{"user_id": uid, "kind": "department", "value": d} for d in departments_]
        rows += [{"user_id": uid, "kind": "borough", "value": b} for b in boroughs]
        if rows:
            conn.execute(api_user_scopes.insert(), rows)
        _insert_token(conn, uid, token)
    return uid


def add_token(db: Db, name: str, token: NewToken) -> None:
    """Store another token for the active user ``name``."""
    with engine_of(db).begin() as conn:
        row = conn.execute(
            sa.select(api_users.c.user_id).where(
                api_users.c.name == name, api_users.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            raise UserError("field 'name': no active user with this name")
        _insert_token(conn, int(row[0]), token)


def holder(db: Db, digest: str) -> Holder | None:
    """Who holds the token with this digest (None: no such token)."""
    with engine_of(db).connect() as conn:
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
        if row is None:
            return None
        depts, bors = _scopes(conn, row.user_id)
    return Holder(
        row.user_id,
        row.name,
        row.role,
        depts,
        bors,
        row.token_sha256,
        row.expires_at,
        row.revoked_at,
        row.user_revoked,
    )


def list_all(db: Db) -> list[dict[str, Any]]:
    """Every user by name: id, name, role, scopes, created/revoked times, live token count."""
    out = []
    with engine_of(db).connect() as conn:
        for u in conn.execute(sa.select(api_users).order_by(api_users.c.name)).all():
            depts, bors = _scopes(conn, u.user_id)
            n_tokens = conn.execute(
                sa.select(sa.func.count())
                .select_from(api_tokens)
                .where(api_tokens.c.user_id == u.user_id, api_tokens.c.revoked_at.is_(None))
            ).scalar_one()
            out.append(
                {
                    "user_id": u.user_id,
                    "name": u.name,
                    "role": u.role,
                    "departments": depts,
                    "boroughs": bors,
                    "created_at": u.created_at,
                    "revoked_at": u.revoked_at,
                    "live_tokens": int(n_tokens),
                }
            )
    return out


def revoke(db: Db, name: str, now: datetime) -> int:
    """Revoke a user and all their live tokens; returns the number of tokens revoked."""
    with engine_of(db).begin() as conn:
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


def rotate(db: Db, name: str, token: NewToken) -> int:
    """Revoke every live token of the active user ``name`` and store ``token`` instead, in one
    transaction; returns the number of tokens revoked."""
    with engine_of(db).begin() as conn:
        row = conn.execute(
            sa.select(api_users.c.user_id).where(
                api_users.c.name == name, api_users.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            raise UserError("field 'name': no active user with this name")
        res = conn.execute(
            api_tokens.update()
            .where(api_tokens.c.user_id == row.user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=token.created_at)
        )
        _insert_token(conn, int(row.user_id), token)
        return int(res.rowcount or 0)
