"""H3 cells and the BNG <-> WGS84 transforms shared by the assignment and the layers.

H3 parents are taken by bit arithmetic on the int64 index, so counts add up across
resolutions; ``latlng_to_cell`` runs once per distinct point, never per row.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
from pyproj import Transformer

_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat -> British National Grid easting/northing (vectorised)."""
    return _TO_BNG.transform(lon, lat)


def h3_parent(cells: np.ndarray, res: int) -> np.ndarray:
    """H3 parents of uint64 cells at ``res`` by bit arithmetic (= ``h3.cell_to_parent``)."""
    c = cells.astype(np.uint64)
    res_mask = np.uint64(0xF) << np.uint64(52)
    low = np.uint64((1 << ((15 - res) * 3)) - 1)
    return (c & ~res_mask) | (np.uint64(res) << np.uint64(52)) | low


def h3_cells(lat: np.ndarray, lon: np.ndarray, res: int = 10) -> np.ndarray:
    """uint64 H3 cells (0 where lat/lon is missing), one ``latlng_to_cell`` per distinct point."""
    out = np.zeros(len(lat), dtype=np.uint64)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return out
    # distinct points by hashing (lat, lon) as one complex number: geocoded records share
    # postcode / venue points, so this often saves most of the per-point H3 calls
    inv, uniq = pd.factorize(lat[ok] + 1j * lon[ok])
    f = h3.api.basic_int.latlng_to_cell
    cells = np.fromiter(
        (f(z.real, z.imag, res) for z in uniq.tolist()), dtype=np.uint64, count=len(uniq)
    )
    out[ok] = cells[inv]
    return out


def cells_to_str(cells: np.ndarray) -> pd.Categorical:
    """uint64 cells -> hex strings (missing for 0) as a Categorical, formatted once per distinct
    cell (categories sorted, so results do not depend on record order)."""
    uniq = np.unique(cells[cells != 0]) if len(cells) else np.array([], dtype=np.uint64)
    codes = np.searchsorted(uniq, cells).astype(np.int64)
    codes[cells == 0] = -1
    strs = [format(int(c), "x") for c in uniq]
    return pd.Categorical.from_codes(codes, categories=pd.Index(strs, dtype=object))
