"""Stored records geocoded against an older gazetteer: counted after every build so the user
is told to run ``istvhub geocode --stored`` (the demo runs it itself)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def store_exists(db_url: str | None = None) -> bool:
    """Whether the store at ``db_url`` (default: the configured one) may hold records: a
    missing SQLite file holds none (and must not be created by a read)."""
    from istvhub.core.config import get_settings

    url = db_url or get_settings().db_url
    if url.startswith("sqlite"):
        db = url.split(":///", 1)[-1].split("?", 1)[0] if ":///" in url else ""
        return bool(db) and db != ":memory:" and Path(db).is_file()
    return True


def stale_records(version: str, db_url: str | None = None) -> dict[str, int]:
    """Current records per older gazetteer version ({} when there is no store yet, or none is
    stale). Never creates a database: a missing SQLite file means nothing is stored."""
    from istvhub.core.config import get_settings
    from istvhub.store import open_store

    url = db_url or get_settings().db_url
    if not store_exists(url):
        return {}
    try:
        store = open_store(url)
    except Exception as exc:  # noqa: BLE001 - the warning is advice; a build never fails on it
        log.warning("could not read the store to check geocodes (%s)", type(exc).__name__)
        return {}
    try:
        counts = store.gazetteer_versions()
    finally:
        store.dispose()
    return {v or "(never geocoded)": n for v, n in counts.items() if v != version and n}


def stale_message(stale: dict[str, int]) -> str:
    n = sum(stale.values())
    return (
        f"warning: {n} stored records were geocoded against an older gazetteer "
        f"({', '.join(sorted(stale))}); run 'istvhub geocode --stored' to re-geocode them "
        "against this one (street blocks, parks and venues change with it)"
    )
