"""Explain: the result row for every outcome. Reasons are composed only from gazetteer names
and fixed words, never from the input text, so personal data cannot leak through them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from istvhub.geocode.areas21 import add_census2021
from istvhub.geocode.candidates import PlaceIndex
from istvhub.records import GEOCODE_COLUMNS

if TYPE_CHECKING:
    from pyproj import Transformer

log = logging.getLogger(__name__)

MATCH_TYPE_OF = {
    "postcode": "postcode",
    "postcode_sector": "postcode_sector",
    "postcode_district": "postcode_district",
    "street": "street",
    "station": "station",
    "venue": "venue",
    "hospital": "venue",
    "school": "venue",
    "bus_stop": "street",
    "cycle_dock": "street",
    "area": "area",
    "borough": "borough",
    "junction": "junction",
}
#: an unknown full postcode in a sector with fewer London units than this is outside London


@dataclass
class Loc:
    """An interpreted location before calibration and output formatting."""

    match_type: str
    x: float
    y: float
    precision: float
    raw: float  # uncalibrated confidence 0-1
    name: str
    row: int | None  # gazetteer row when the point is an entry's own point
    reason: str
    street_keys: tuple[str, ...] = ()
    ctx_hits: tuple[str, ...] = ()
    ctx_misses: tuple[str, ...] = ()
    #: metres the named street reaches from ``x, y`` (streets only; 0 = within ``precision``)
    extent: float = 0.0


#: one result row: each of GEOCODE_COLUMNS (plus internal ``_`` keys) -> a str, float or None
Row = dict[str, Any]


def empty_result(status: str, reason: str, confidence: float | None = None) -> Row:
    r: Row = dict.fromkeys(GEOCODE_COLUMNS)
    r["geo_status"] = status
    r["reason"] = reason
    r["confidence"] = confidence
    return r


REASONS = {
    "home": "home: the text names a residence, which is never located (by design)",
    "unknown": "unknown: the text gives no place (non-answer, refusal or bare place type)",
    "outside_area": "outside area: the text names a place outside London",
    "unmatched": "unmatched: no gazetteer place, street or postcode found in the text",
}


def finish(out: pd.DataFrame, gaz: Any) -> pd.DataFrame:
    """lat/lon from easting/northing, LSOA and block for located rows (vectorised)."""
    for c in ("lat", "lon", "easting", "northing", "precision_m", "confidence"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    for c in (
        "geo_status",
        "match_type",
        "matched_name",
        "lsoa_code",
        "borough",
        "block_id",
        "reason",
    ):
        out[c] = out[c].astype("object")
    loc = out["geo_status"].eq("located") & out["easting"].notna()
    need = loc & out["lat"].isna()
    if need.any():
        from pyproj import Transformer

        tr = to_wgs84()
        lon, lat = tr.transform(
            out.loc[need, "easting"].to_numpy(), out.loc[need, "northing"].to_numpy()
        )
        out.loc[need, "lat"] = np.round(lat, 6)
        out.loc[need, "lon"] = np.round(lon, 6)
        del Transformer
    need_lsoa = loc & out["lsoa_code"].isna()
    if gaz is not None and need_lsoa.any() and hasattr(gaz, "lsoa_of"):
        try:
            codes = gaz.lsoa_of(
                out.loc[need_lsoa, "easting"].to_numpy(),
                out.loc[need_lsoa, "northing"].to_numpy(),
            )
            out.loc[need_lsoa, "lsoa_code"] = list(np.asarray(codes, dtype=object))
        except Exception as exc:  # noqa: BLE001 - LSOA is an enrichment, not a failure
            log.warning("lsoa_of failed (%s); LSOA left empty", type(exc).__name__)
    need_block = loc & out["block_id"].isna() & out["precision_m"].le(250)
    if gaz is not None and need_block.any() and hasattr(gaz, "snap_to_blocks"):
        # a named street/junction snaps only to a block carrying that name (up to 150 m from
        # its representative point); other points to the nearest block within 60 m
        keys = out["_street_key"].where(out["_street_key"].notna(), "")
        for keyed, dist in ((True, 150.0), (False, 60.0)):
            m = need_block & (keys.ne("") if keyed else keys.eq(""))
            if not m.any():
                continue
            try:
                ids = gaz.snap_to_blocks(
                    out.loc[m, "easting"].to_numpy(),
                    out.loc[m, "northing"].to_numpy(),
                    dist,
                    keys[m].tolist() if keyed else None,
                )
                out.loc[m, "block_id"] = [
                    None if (v is None or v != v or v == "") else str(v)
                    for v in np.asarray(ids, dtype=object)
                ]
            except Exception as exc:  # noqa: BLE001 - the block is an enrichment
                log.warning("snap_to_blocks failed (%s); block_id left empty", type(exc).__name__)
    add_census2021(out, loc, gaz)  # LSOA/MSOA 2021 beside the 2011 code (issue 19)
    return out


def borough_near(ix: PlaceIndex, x: float, y: float) -> str | None:
    rows = getattr(ix, "_pc_rows", None)
    if rows is None:  # built once per index; a race only builds it twice
        rows = np.flatnonzero(ix.etype == "postcode_district")
        rows = rows[[ix.borough[i] is not None for i in rows]]
        ix._pc_rows = rows
    if len(rows) == 0:
        return None
    d = np.hypot(ix.x[rows] - x, ix.y[rows] - y)
    borough: str | None = ix.borough[rows[int(np.argmin(d))]]
    return borough


def correction_result(ix: PlaceIndex, corr: tuple[float, float]) -> dict[str, Any]:
    lat, lon = corr
    x, y = to_bng().transform(lon, lat)
    # nearest sensible kind: the nearest gazetteer entry's type
    d = np.hypot(ix.x - x, ix.y - y)
    mask = np.isin(ix.etype, ("street", "junction", "venue", "station", "hospital", "school"))
    i = int(np.flatnonzero(mask)[np.argmin(d[mask])]) if mask.any() else int(np.argmin(d))
    mt = MATCH_TYPE_OF.get(str(ix.etype[i]), "street")
    r = empty_result("located", f"analyst correction (nearest gazetteer place: {ix.name[i]})", 0.99)
    r.update(
        match_type=mt,
        lat=lat,
        lon=lon,
        easting=round(x, 1),
        northing=round(y, 1),
        precision_m=25.0,
        matched_name=ix.name[i],
        borough=borough_near(ix, x, y),
    )
    return r


def located_result(ix: PlaceIndex, loc: Loc, conf: float) -> dict[str, Any]:
    """A located answer's columns (plus the internal ``_street_key`` used to snap to blocks)."""
    r = empty_result("located", loc.reason, conf)
    r.update(
        match_type=loc.match_type,
        easting=round(loc.x, 1),
        northing=round(loc.y, 1),
        precision_m=round(float(loc.precision), 0),
        matched_name=loc.name,
        _street_key=loc.street_keys[0] if loc.street_keys else None,
    )
    if loc.row is not None:
        r["lsoa_code"] = ix.lsoa[loc.row] if loc.match_type == "postcode" else None
        if loc.match_type in ("postcode",) or ix.borough[loc.row]:
            r["borough"] = ix.borough[loc.row]
    if r["borough"] is None:
        r["borough"] = borough_near(ix, loc.x, loc.y)
    return r


_TR: dict[str, Transformer] = {}


def to_wgs84() -> Transformer:
    if "wgs" not in _TR:
        from pyproj import Transformer

        _TR["wgs"] = Transformer.from_crs(27700, 4326, always_xy=True)
    return _TR["wgs"]


def to_bng() -> Transformer:
    if "bng" not in _TR:
        from pyproj import Transformer

        _TR["bng"] = Transformer.from_crs(4326, 27700, always_xy=True)
    return _TR["bng"]
