"""How far a street reaches from its one answer point (``entries.extent_m``).

A street entry is one point, and its ``precision_m`` only covers the postcode units the Land
Registry table ties to it, which often cluster at one end: East India Dock Road's units sit near
Poplar while its bus stops run 2 km to Leamouth. The geocoder's confidence needs the street's
real reach to know that a long street answered at one point is less likely to be within
tolerance, so the build records, per street, the farthest of its own postcode points
(``precision_m``), the ends of the network blocks bearing its name in its borough and the bus
stops named after it in its borough ("Blackwall Tunnel / East India Dock Road" names both).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely


def _points_of(
    keys: list[str], boroughs: list[object], xs: np.ndarray, ys: np.ndarray, where: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(street row, x, y) for each (key, borough) that names a street."""
    r, px, py = [], [], []
    for k, b, x, y in zip(keys, boroughs, xs, ys, strict=True):
        i = where.get((k, b))
        if i is not None:
            r.append(i)
            px.append(x)
            py.append(y)
    return np.asarray(r, dtype=np.int64), np.asarray(px, float), np.asarray(py, float)


def street_extent(
    entries: pd.DataFrame, blocks: pd.DataFrame, norm: Callable[[str], str]
) -> np.ndarray:
    """Per entry row (``key`` already set; ``norm`` is the build's ``normalise_name``, for bus
    stop names): for streets, metres from the street's point to the farthest known point
    of it (at least its ``precision_m``); NaN for every other entry type."""
    out = np.full(len(entries), np.nan)
    et = entries["entry_type"].astype(str).to_numpy()
    st = np.flatnonzero(et == "street")
    if not len(st):
        return out
    ex = entries["easting"].to_numpy(dtype=float)
    ny = entries["northing"].to_numpy(dtype=float)
    bor = entries["borough"].to_numpy(dtype=object)
    key = entries["key"].astype(str).to_numpy(dtype=object)
    where = {(key[i], bor[i]): int(i) for i in st}
    out[st] = pd.to_numeric(entries["precision_m"], errors="coerce").to_numpy()[st]
    keys: list[str] = []
    bs: list[object] = []
    xs: list[float] = []
    ys: list[float] = []
    stops = np.flatnonzero(et == "bus_stop")
    for i in stops:
        for side in str(entries["name"].iat[i]).split(" / "):
            keys.append(norm(side))
            bs.append(bor[i])
            xs.append(ex[i])
            ys.append(ny[i])
    if len(blocks):
        geom = blocks.geometry.to_numpy()
        ends = [shapely.get_coordinates(shapely.get_point(geom, k)) for k in (0, -1)]
        for j, (nk, b) in enumerate(zip(blocks["names_key"], blocks["borough"], strict=True)):
            for k in str(nk or "").split("|"):
                if k:
                    for e in ends:
                        keys.append(k)
                        bs.append(b)
                        xs.append(float(e[j, 0]))
                        ys.append(float(e[j, 1]))
    rows, px, py = _points_of(keys, bs, np.asarray(xs), np.asarray(ys), where)
    if len(rows):
        d = np.hypot(px - ex[rows], py - ny[rows])
        far = pd.Series(d).groupby(rows).max()
        idx = far.index.to_numpy(dtype=np.int64)
        out[idx] = np.fmax(out[idx], far.to_numpy())
    return out
