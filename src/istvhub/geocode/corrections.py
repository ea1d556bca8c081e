"""Analyst corrections: "this text means this point", stored in the ``geocode_corrections`` table
and audited (who, when). The newest active correction for a normalised text wins next time, for
one department or London-wide (department NULL). Home texts are never corrected to a point.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from istvhub._errors import IstvhubError
from istvhub.geocode.classify import classify_tokens
from istvhub.geocode.normalise import normalise_text
from istvhub.geocode.pii import scrub_location
from istvhub.store import schema

#: generous Greater London box (WGS84): a correction outside it is a typo in lat/lon
LAT_RANGE = (51.25, 51.72)
LON_RANGE = (-0.56, 0.34)


def correction_key(text: str) -> str:
    """The normal form a correction is stored under (PII scrubbed first)."""
    return normalise_text(scrub_location(text)[0])


def add_correction(
    db_url: str | None,
    text: str,
    lat: float,
    lon: float,
    department: str | None = None,
    by: str = "cli",
) -> int:
    """Store a correction (deactivating older ones for the same text and department) and an
    audit row; returns the correction id."""
    from istvhub.store import open_store

    key = correction_key(text)
    if not key:
        raise IstvhubError("correction text is empty after normalisation")
    if classify_tokens(key.split()) == "home":
        raise IstvhubError("a home location is never given a point (by design)")
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
        raise IstvhubError("correction point is outside Greater London (check --lat/--lon)")
    dept = department.strip().upper() if department else None
    store = open_store(db_url)
    t = schema.geocode_corrections
    now = datetime.now(UTC)
    try:
        with store.engine.begin() as conn:
            cond = [t.c.normalised_text == key, t.c.active == 1]
            cond.append(t.c.department == dept if dept else t.c.department.is_(None))
            conn.execute(t.update().where(*cond).values(active=0))
            cid = conn.execute(
                t.insert()
                .values(
                    normalised_text=key,
                    department=dept,
                    lat=float(lat),
                    lon=float(lon),
                    created_by=by,
                    created_at=now,
                    active=1,
                )
                .returning(t.c.id)
            ).scalar_one()
            conn.execute(
                schema.audit_log.insert().values(
                    at=now,
                    actor=by,
                    action="geocode.correct",
                    detail=f"correction {cid} department {dept or 'all'} point {lat:.5f},{lon:.5f}",
                )
            )
    finally:
        store.dispose()
    return int(cid)


def active_corrections(db_url: str) -> dict[tuple[str, str | None], tuple[float, float]]:
    """(normalised text, department or None) -> (lat, lon); the newest active one wins."""
    eng = sa.create_engine(db_url)
    t = schema.geocode_corrections
    try:
        with eng.connect() as conn:
            if not sa.inspect(conn).has_table(t.name):
                return {}
            rows = conn.execute(
                sa.select(t.c.normalised_text, t.c.department, t.c.lat, t.c.lon)
                .where(t.c.active == 1)
                .order_by(t.c.id)
            ).all()
    finally:
        eng.dispose()
    return {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows}


def corrections_state(db_url: str) -> tuple[int, int, int]:
    """(rows, newest id, active rows): changes whenever a correction is added or revoked, so a
    process-wide geocoder knows when to reload them (``geocode.shared``)."""
    eng = sa.create_engine(db_url)
    t = schema.geocode_corrections
    try:
        with eng.connect() as conn:
            if not sa.inspect(conn).has_table(t.name):
                return (0, 0, 0)
            row = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.max(t.c.id), 0),
                    sa.func.sum(t.c.active),
                )
            ).one()
    finally:
        eng.dispose()
    return (int(row[0]), int(row[1]), int(row[2] or 0))
