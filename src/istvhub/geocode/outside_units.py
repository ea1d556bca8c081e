"""Postcode units outside London that Code-Point knows (``outside_postcodes.parquet``, written
by the gazetteer build beside the London entries).

A full postcode missing from the London units is a typo, a new unit, or a place outside London;
in a sector London shares with a neighbour ("KT4 7", Worcester Park and Epsom) the geocoder used
to answer the London part of the sector. With the neighbours' units known, a real unit outside
London is *outside area*, and only a unit nobody knows falls back to its sector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

FILE = "outside_postcodes.parquet"
_LOADED: dict[str, frozenset[str]] = {}


def outside_units(geo: Any) -> frozenset[str]:
    """Geocoder keys ("kt47js") of the units outside London in the geocoder's gazetteer (empty
    for a gazetteer built before the file existed, or a geocoder built by hand)."""
    path = getattr(getattr(geo, "gazetteer", None), "path", None)
    if path is None:
        return frozenset()
    key = str(path)
    hit = _LOADED.get(key)
    if hit is None:  # read once per process and gazetteer version (a race reads it twice)
        f = Path(path) / FILE
        hit = frozenset(pd.read_parquet(f)["postcode"].astype(str)) if f.is_file() else frozenset()
        _LOADED[key] = hit
    return hit
