"""Which units a borough filter covers: area filters select *units*, never records.

A hex or block on a borough boundary holds records geocoded to either side. If ``--borough A``
counted only A's records in it, ``A`` and ``A + B`` would give two different counts for the same
unit, and their difference would be B's few records there: a count (and a presence) the rules
suppress. So a unit is in scope by where it lies (a block by its own borough, a hex by the
borough of the LSOA holding its centre, an LSOA by its borough) and always counts every record
in it, whatever borough filter is asked. Without LSOA outlines (pure-core tests) hexes and LSOAs
fall back to the records' own borough.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from istvhub.hotblocks.assign import to_bng


def _lower(values: pd.Series, boroughs: tuple[str, ...]) -> np.ndarray:
    want = [b.lower() for b in boroughs]
    return values.astype("string").str.lower().isin(want).fillna(False).to_numpy(dtype=bool)


def lsoa_in_scope(
    codes: pd.Series, boroughs: tuple[str, ...], lsoas: gpd.GeoDataFrame | None
) -> np.ndarray | None:
    """Per LSOA code, whether its LSOA lies in ``boroughs`` (None: no LSOA table to tell)."""
    if lsoas is None or "borough" not in lsoas.columns or not len(lsoas):
        return None
    of = lsoas.drop_duplicates("lsoa_code").set_index("lsoa_code")["borough"]
    return _lower(codes.map(of), boroughs)


def hex_in_scope(
    hex_ids: pd.Series, boroughs: tuple[str, ...], lsoas: gpd.GeoDataFrame | None
) -> np.ndarray | None:
    """Per H3 cell id, whether the LSOA holding its centre lies in ``boroughs``."""
    if lsoas is None or "borough" not in lsoas.columns or not len(lsoas):
        return None
    uniq = pd.Index(hex_ids.dropna().astype(str).unique())
    if not len(uniq):
        return np.zeros(len(hex_ids), dtype=bool)
    ll = np.array([h3.cell_to_latlng(h) for h in uniq], dtype="float64")
    x, y = to_bng(ll[:, 1], ll[:, 0])
    pts = gpd.GeoDataFrame({"hex": uniq}, geometry=gpd.points_from_xy(x, y), crs=27700).reset_index(
        drop=True
    )
    lg = lsoas.to_crs(27700) if lsoas.crs and lsoas.crs.to_epsg() != 27700 else lsoas
    hit = gpd.sjoin(pts, lg[["borough", "geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    of = pd.Series(hit["borough"].to_numpy(), index=hit["hex"].to_numpy())
    return _lower(hex_ids.astype("string").map(of), boroughs)
