"""istvhub.store: the database behind one interface (SQLite embedded default, PostgreSQL by URL).

``open_store(url)`` creates missing tables and loads the department registry; the returned
:class:`Store` offers the reads and writes the other stages need (see ``base.Store``); an
upload is written by ``submissions``, frames become rows in ``rows``, the registry is ``registry``.
"""

from __future__ import annotations

from pathlib import Path

from istvhub.store.backends import PostgresStore, SQLiteStore
from istvhub.store.base import Store
from istvhub.store.registry import read_registry, registry_path
from istvhub.store.rows import RecordColumns
from istvhub.store.submissions import StoreResult, StreamTotals

__all__ = [
    "PostgresStore",
    "RecordColumns",
    "SQLiteStore",
    "Store",
    "StoreResult",
    "StreamTotals",
    "open_store",
    "read_registry",
    "registry_path",
]


def open_store(
    url: str | None = None, *, registry: Path | None = None, auto_upgrade: bool | None = None
) -> Store:
    """Open (and create or upgrade if needed) the store at ``url``; default from settings
    (ISTVHUB_DB / a SQLite file under ISTVHUB_HOME). ``auto_upgrade`` None follows the setting
    ``ISTVHUB_DB_AUTO_UPGRADE`` (on by default)."""
    if url is None:
        from istvhub.core.config import get_settings

        url = get_settings().db_url
    if url.startswith("sqlite"):
        return SQLiteStore(url, registry, auto_upgrade=auto_upgrade)
    if url.startswith("postgres"):
        return PostgresStore(url, registry, auto_upgrade=auto_upgrade)
    from istvhub._errors import StoreError

    raise StoreError("unsupported database URL scheme (use sqlite:/// or postgresql+psycopg://)")
