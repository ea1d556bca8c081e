"""How far a truth point lies from the street a street answer names, along its whole extent.

The geocoder answers one point for a street, but an assault (or a police.uk snap point) can be
anywhere along it: judged only by that point, a right answer on a 2 km road counts as wrong at
500 m. The gazetteer keeps each street's known points (``PlaceIndex.street_pts``) and the bus stops
named after it in its borough, so a street answer is also judged by the truth's distance to the
nearest of them (``metrics.correct_mask``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from istvhub.geocode.candidates import PlaceIndex

#: a street answer is right when the truth is this close to one of the street's known points
ALONG_M = 250.0


def _street_rows(ix: PlaceIndex) -> dict[str, np.ndarray]:
    rows = np.flatnonzero(ix.etype == "street")
    names = pd.Series(ix.name[rows]).astype(str)
    return {
        str(n): rows[np.asarray(g, dtype=np.int64)] for n, g in names.groupby(names).indices.items()
    }


def _stop_points(ix: PlaceIndex) -> dict[tuple[str, str], np.ndarray]:
    """(street name, borough) -> points of the bus stops named after that street ("East India
    Dock Road", either side of "Blackwall Tunnel / East India Dock Road"): TfL names a stop
    after the street it stands on or beside, so the stops show a street's extent where the
    postcodes (Land Registry sales) cluster at one end."""
    rows = np.flatnonzero(ix.etype == "bus_stop")
    boro = getattr(ix, "borough", None)
    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in rows:
        b = str(boro[r]) if boro is not None else ""
        for side in str(ix.name[r]).split(" / "):
            out.setdefault((side.strip().lower(), b), []).append((float(ix.x[r]), float(ix.y[r])))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def along_street_m(ix: PlaceIndex, gt: pd.DataFrame, res: pd.DataFrame) -> np.ndarray:
    """Per row, metres from the truth to the nearest known point of the street answered (the
    same-name street entry nearest the answer's point); NaN for any other answer."""
    from istvhub.geocode.explain import to_bng

    out = np.full(len(gt), np.nan)
    street = (res["geo_status"].eq("located") & res["match_type"].eq("street")).to_numpy()
    if not street.any():
        return out
    by_name = _street_rows(ix)
    stops = _stop_points(ix)
    boro = getattr(ix, "borough", None)
    tx, ty = to_bng().transform(gt["lon"].to_numpy(dtype=float), gt["lat"].to_numpy(dtype=float))
    ex = res["easting"].to_numpy(dtype=float)
    ny = res["northing"].to_numpy(dtype=float)
    names = res["matched_name"].astype(str).to_numpy()
    for k in np.flatnonzero(street):
        rows = by_name.get(names[k])
        if rows is None or not np.isfinite(tx[k]):
            continue
        r = int(rows[np.argmin(np.hypot(ix.x[rows] - ex[k], ix.y[rows] - ny[k]))])
        pts = ix.street_pts.get(r)
        if pts is None or not len(pts):
            pts = np.array([[ix.x[r], ix.y[r]]])
        more = stops.get((names[k].lower(), str(boro[r]) if boro is not None else ""))
        if more is not None:
            pts = np.vstack([pts, more])
        out[k] = float(np.min(np.hypot(pts[:, 0] - tx[k], pts[:, 1] - ty[k])))
    return out
