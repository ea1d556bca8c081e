"""The database handle the repositories take, and the two helpers that need no table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from istvhub._errors import StoreError
from istvhub.store.base import Store

#: what a repository function reads from: an open store, or a bare engine (read-only reports,
#: tests that hold an engine of their own)
Db = Store | Engine


def engine_of(db: Db) -> Engine:
    """The engine behind ``db``."""
    return db.engine if isinstance(db, Store) else db


def read_engine(url: str) -> Engine:
    """An engine for ``url`` that creates nothing (reports read a store that already exists);
    ``dispose()`` it when done."""
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"field 'db': invalid database URL ({type(exc).__name__})") from None


def ping(db: Db) -> bool:
    """Whether the database answers a trivial query (the health check)."""
    try:
        with engine_of(db).connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.DBAPIError:
        return False
    return True
