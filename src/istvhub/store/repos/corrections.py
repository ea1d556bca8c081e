"""Analyst geocode corrections ("this text means this point"), each write audited."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from istvhub.store.repos._db import Db, engine_of
from istvhub.store.schema import audit_log
from istvhub.store.schema import geocode_corrections as corr

#: (normalised text, department or None) -> (lat, lon)
Corrections = dict[tuple[str, str | None], tuple[float, float]]


def add(db: Db, key: str, department: str | None, lat: float, lon: float, *, by: str) -> int:
    """Store a correction, deactivating older active ones for the same text and department,
    and an audit row (``geocode.correct``, never the text); returns the correction id."""
    now = datetime.now(UTC)
    with engine_of(db).begin() as conn:
        cond = [corr.c.normalised_text == key, corr.c.active == 1]
        cond.append(corr.c.department == department if department else corr.c.department.is_(None))
        conn.execute(corr.update().where(*cond).values(active=0))
        cid = conn.execute(
            corr.insert()
            .values(
                normalised_text=key,
                department=department,
                lat=float(lat),
                lon=float(lon),
                created_by=by,
                created_at=now,
                active=1,
            )
            .returning(corr.c.id)
        ).scalar_one()
        conn.execute(
            audit_log.insert().values(
                at=now,
                actor=by,
                action="geocode.correct",
                detail=f"correction {cid} department {department or 'all'} "
                f"point {lat:.5f},{lon:.5f}",
            )
        )
    return int(cid)


def active(db: Db) -> Corrections:
    """Active corrections, the newest winning (empty when the table does not exist yet)."""
    with engine_of(db).connect() as conn:
        if not sa.inspect(conn).has_table(corr.name):
            return {}
        rows = conn.execute(
            sa.select(corr.c.normalised_text, corr.c.department, corr.c.lat, corr.c.lon)
            .where(corr.c.active == 1)
            .order_by(corr.c.id)
        ).all()
    return {(str(r[0]), r[1]): (float(r[2]), float(r[3])) for r in rows}


def state(db: Db) -> tuple[int, int, int]:
    """(rows, newest id, active rows): changes whenever a correction is added or retired."""
    with engine_of(db).connect() as conn:
        if not sa.inspect(conn).has_table(corr.name):
            return (0, 0, 0)
        row = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.max(corr.c.id), 0),
                sa.func.sum(corr.c.active),
            )
        ).one()
    return (int(row[0]), int(row[1]), int(row[2] or 0))


def list_active(db: Db, departments: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Active corrections, oldest first; with ``departments``: theirs and the London-wide ones."""
    q = sa.select(corr).where(corr.c.active == 1).order_by(corr.c.id)
    if departments is not None:
        q = q.where(sa.or_(corr.c.department.is_(None), corr.c.department.in_(list(departments))))
    with engine_of(db).connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def retire(db: Db, correction_id: int, allowed: Callable[[str | None], bool]) -> bool:
    """Deactivate a correction whose department ``allowed`` accepts; False when there is no such
    correction (or it is not the caller's)."""
    with engine_of(db).begin() as conn:
        row = conn.execute(sa.select(corr.c.department).where(corr.c.id == correction_id)).first()
        if row is None or not allowed(row.department):
            return False
        conn.execute(corr.update().where(corr.c.id == correction_id).values(active=0))
    return True
