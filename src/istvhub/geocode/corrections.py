"""Analyst corrections: "this text means this point", stored in the ``geocode_corrections`` table
and audited (who, when). The newest active correction for a normalised text wins next time, for
one department or London-wide (department NULL). Home texts are never corrected to a point.
"""

from __future__ import annotations

from istvhub._errors import IstvhubError
from istvhub.geocode.classify import classify_tokens
from istvhub.geocode.normalise import normalise_text
from istvhub.geocode.pii import scrub_location
from istvhub.store import open_store
from istvhub.store.repos import corrections as repo
from istvhub.store.repos import read_engine

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
    key = correction_key(text)
    if not key:
        raise IstvhubError("correction text is empty after normalisation")
    if classify_tokens(key.split()) == "home":
        raise IstvhubError("a home location is never given a point (by design)")
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
        raise IstvhubError("correction point is outside Greater London (check --lat/--lon)")
    dept = department.strip().upper() if department else None
    store = open_store(db_url)
    try:
        return repo.add(store, key, dept, lat, lon, by=by)
    finally:
        store.dispose()


def active_corrections(db_url: str) -> repo.Corrections:
    """(normalised text, department or None) -> (lat, lon); the newest active one wins."""
    eng = read_engine(db_url)
    try:
        return repo.active(eng)
    finally:
        eng.dispose()


def corrections_state(db_url: str) -> tuple[int, int, int]:
    """(rows, newest id, active rows): changes whenever a correction is added or revoked, so a
    process-wide geocoder knows when to reload them (``geocode.shared``)."""
    eng = read_engine(db_url)
    try:
        return repo.state(eng)
    finally:
        eng.dispose()
