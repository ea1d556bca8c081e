"""The raw-row shape every source reader returns, and the conversions readers share.

Every reader returns the columns of :data:`RAW_COLUMNS` (missing ones are filled by the build):
``entry_type, name, easting, northing, precision_m, borough, lsoa_code, district, source,
category, variants`` where ``variants`` is a list of extra raw names searched as keys.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pyproj import Transformer

RAW_COLUMNS = [
    "entry_type",
    "name",
    "easting",
    "northing",
    "precision_m",
    "borough",
    "lsoa_code",
    "district",
    "source",
    "category",
    "variants",
]

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_TO_WGS = Transformer.from_crs(27700, 4326, always_xy=True)


def to_bng(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat arrays -> British National Grid easting/northing."""
    e, n = _TO_BNG.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(e), np.asarray(n)


def to_wgs(e: ArrayLike, n: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Easting/northing arrays -> (lon, lat)."""
    lon, lat = _TO_WGS.transform(np.asarray(e, dtype=float), np.asarray(n, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def canon_postcode(s: pd.Series) -> pd.Series:
    """'SW2  1AA', 'sw21aa' -> 'SW2 1AA' (outward, one space, inward)."""
    t = s.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return t.str[:-3] + " " + t.str[-3:]


_SMALL = {"and", "of", "the", "upon", "on", "in", "at", "by", "de", "le", "la"}


def display_case(name: str) -> str:
    """'COLDHARBOUR LANE' -> 'Coldharbour Lane'; 'ST. JOHN'S HILL' -> 'St. John's Hill'."""
    words = str(name).strip().lower().split()
    out = []
    for i, w in enumerate(words):
        if i > 0 and w in _SMALL:
            out.append(w)
        else:
            out.append(re.sub(r"(^|[-(/])([a-z])", lambda m: m.group(1) + m.group(2).upper(), w))
    return " ".join(out)


def raw_frame(**cols: Any) -> pd.DataFrame:
    """A frame of raw rows: the given columns, the other :data:`RAW_COLUMNS` as None."""
    df = pd.DataFrame(cols)
    for c in RAW_COLUMNS:
        if c not in df:
            df[c] = None
    return df[RAW_COLUMNS]
