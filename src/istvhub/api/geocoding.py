"""One Geocoder per process for the API, reloaded when the gazetteer or the corrections change."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from istvhub.geocode import Geocoder
from istvhub.geocode.corrections import correction_key
from istvhub.store import Store
from istvhub.store.repos import corrections as corrections_repo

_lock = threading.Lock()
_state: dict[str, Any] = {}


def geocoder_for(home: Path, store: Store) -> Any:
    """The current gazetteer's Geocoder with the store's active corrections (cached)."""
    current = Path(home) / "gazetteer" / "CURRENT"
    version = current.read_text().strip() if current.is_file() else ""
    key = f"{home}|{version}|{store.url}|{corrections_repo.state(store)}"
    with _lock:
        if _state.get("key") != key:
            _state["geocoder"] = Geocoder.load(home, store.url)
            _state["key"] = key
        return _state["geocoder"]


def normalised_key(text: str) -> str:
    """The key the geocoder looks corrections up by: its own scrub + normalise."""
    return correction_key(text)
