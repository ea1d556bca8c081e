"""Deleting expired record-level data (``istvhub.retention`` decides what and records why)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store.base import Store
from istvhub.store.repos._db import Db, engine_of
from istvhub.store.repos.stats import stat_columns
from istvhub.store.schema import record_stats_archive, records

#: (period, records, submissions) of every month before a cutoff, oldest first
Expired = list[tuple[str, int, int]]


def _expired(conn: sa.Connection, cutoff: str) -> Expired:
    r = records.c
    rows = conn.execute(
        sa.select(
            r.period,
            sa.func.count().label("n"),
            sa.func.count(sa.distinct(r.submission_id)).label("subs"),
        )
        .where(r.period < cutoff)
        .group_by(r.period)
        .order_by(r.period)
    ).all()
    return [(str(p), int(n), int(s)) for p, n, s in rows]


def expired(db: Db, cutoff: str) -> Expired:
    """What :func:`delete_expired` would delete now (reads only)."""
    try:
        with engine_of(db).connect() as conn:
            return _expired(conn, cutoff)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read the store ({type(exc).__name__})") from None


def delete_expired(
    store: Store, cutoff: str, *, actor: str, detail: Callable[[Expired], str]
) -> Expired:
    """In ONE write transaction: archive each affected submission's record statistics, delete
    every record (any version) of a month before ``cutoff``, and audit ``detail(expired)``."""
    r = records.c
    try:
        with store._write_txn() as conn:
            gone = _expired(conn, cutoff)
            if gone:
                now = datetime.now(UTC)
                stats = (
                    conn.execute(
                        sa.select(r.submission_id, r.department, r.period, *stat_columns())
                        .where(r.period < cutoff)
                        .group_by(r.submission_id, r.department, r.period)
                    )
                    .mappings()
                    .all()
                )
                conn.execute(
                    record_stats_archive.insert(), [dict(s) | {"archived_at": now} for s in stats]
                )
                conn.execute(records.delete().where(r.period < cutoff))
            store._audit(conn, actor, "retention.apply", detail(gone))
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"retention failed and changed nothing ({type(exc).__name__})") from None
    return gone
