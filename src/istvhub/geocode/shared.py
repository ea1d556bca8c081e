"""One loaded geocoder per process, shared by every file it ingests and every request it serves.

Loading the gazetteer index costs seconds; ingest used to pay it per file, and 20 concurrent API
uploads each paid it at once (67-84 s per upload, issue 16). Here the first caller loads under a
lock, the others wait for it and reuse it. The instance is rebuilt only when the gazetteer version
or the store's analyst corrections change. Nothing is shared between processes: each uvicorn
worker or ``--workers`` process holds its own copy (read-only after load).
"""

from __future__ import annotations

import threading
from pathlib import Path

from istvhub._errors import GazetteerNotBuilt
from istvhub.gazetteer.load import resolve_version_dir
from istvhub.geocode.geocoder import Geocoder

_lock = threading.Lock()
_cache: dict[tuple[str, str | None], tuple[object, Geocoder]] = {}
_MAX = 4  # homes x stores one process serves (tests use a few; a deployment one)


def shared_geocoder(home: Path | None, db_url: str | None = None) -> Geocoder | None:
    """The process's geocoder for ``home``'s current gazetteer (None when none is built)."""
    from istvhub.geocode.corrections import corrections_state

    try:
        vdir = str(resolve_version_dir(home))
    except GazetteerNotBuilt:
        return None
    key = (vdir, db_url)
    state = corrections_state(db_url) if db_url else None
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == state:
            return hit[1]
        geocoder = Geocoder.load(home, db_url)
        if len(_cache) >= _MAX:
            _cache.clear()
        _cache[key] = (state, geocoder)
        return geocoder


def clear() -> None:
    """Forget loaded geocoders (tests that rebuild a gazetteer in one process)."""
    with _lock:
        _cache.clear()
