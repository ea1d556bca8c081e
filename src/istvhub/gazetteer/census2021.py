"""Census 2021 statistical geography: LSOA and MSOA 2021 polygons and ONS's exact-fit lookup from
LSOA 2011 to LSOA 2021, read beside the 2011 areas the gazetteer has always carried.

CSPs join their own tables (population, deprivation) on 2021 codes, and the NHS peer tool outputs
LSOA 2021 only; 2011 stays for the contract and for periods before 2021. Points get their 2021
areas by point in polygon (ONS publishes no postcode -> LSOA 2021 file under an open licence here).
The lookup's change codes: U unchanged, S a 2011 LSOA split into several 2021 ones, M several 2011
LSOAs merged into one 2021 LSOA (and X, irregular, which London does not have).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import ArrayLike

LSOA21_COLUMNS = ("lsoa21_code", "lsoa21_name", "msoa21_code", "msoa21_name", "borough")
MSOA21_COLUMNS = ("msoa21_code", "msoa21_name", "borough")
LOOKUP_COLUMNS = ("lsoa_code", "lsoa21_code", "change")


def _cols(frame: pd.DataFrame) -> dict[str, str]:
    return {c.lower(): c for c in frame.columns}


def read_lsoas21(files: list[Path], boroughs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """LSOA 2021 polygons (EPSG:27700) with their MSOA and borough; empty when no file."""
    if not files:
        return gpd.GeoDataFrame({c: [] for c in LSOA21_COLUMNS}, geometry=[], crs=27700)
    g = pd.concat([pyogrio.read_dataframe(f) for f in files], ignore_index=True)
    c = _cols(g)
    names = dict(zip(boroughs["gss_code"], boroughs["name"], strict=True))
    lad = g[c["lad22cd"]].astype(str) if "lad22cd" in c else None
    out = gpd.GeoDataFrame(
        {
            "lsoa21_code": g[c["lsoa21cd"]].astype(str),
            "lsoa21_name": g[c["lsoa21nm"]].astype(str),
            "msoa21_code": g[c["msoa21cd"]].astype(str) if "msoa21cd" in c else None,
            "msoa21_name": g[c["msoa21nm"]].astype(str) if "msoa21nm" in c else None,
            "borough": lad.map(names) if lad is not None else None,
        },
        geometry=g.geometry.values,
        crs=g.crs or 27700,
    ).to_crs(27700)
    out["geometry"] = out.geometry.make_valid()
    return out.drop_duplicates("lsoa21_code").reset_index(drop=True)


def msoas_from_lsoas(lsoas21: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """MSOA 2021 polygons dissolved from their LSOAs (edges match the LSOAs exactly)."""
    if lsoas21.empty or lsoas21["msoa21_code"].isna().all():
        return gpd.GeoDataFrame({c: [] for c in MSOA21_COLUMNS}, geometry=[], crs=27700)
    out = lsoas21.dissolve(by="msoa21_code", aggfunc={"msoa21_name": "first", "borough": "first"})
    out = out.reset_index()[[*MSOA21_COLUMNS, "geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=27700)


def read_lookup(files: list[Path]) -> pd.DataFrame:
    """LSOA 2011 -> 2021 rows (exact fit) with the change code U/S/M/X."""
    if not files:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in LOOKUP_COLUMNS})
    raw = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    c = _cols(raw)
    out = pd.DataFrame(
        {
            "lsoa_code": raw[c["lsoa11cd"]].str.strip(),
            "lsoa21_code": raw[c["lsoa21cd"]].str.strip(),
            "change": raw[c["chgind"]].str.strip().str.upper(),
        }
    )
    return out.drop_duplicates().reset_index(drop=True).astype("string")


def areas21_of(
    lsoas21: gpd.GeoDataFrame, tree: shapely.STRtree, easting: ArrayLike, northing: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """(LSOA 2021 code, MSOA 2021 code) of each point; None outside every LSOA or for NaN."""
    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    lsoa = np.full(len(e), None, dtype=object)
    msoa = np.full(len(e), None, dtype=object)
    if len(e) == 0 or len(lsoas21) == 0:
        return lsoa, msoa
    ok = np.flatnonzero(np.isfinite(e) & np.isfinite(n))
    pi, li = tree.query(shapely.points(e[ok], n[ok]), predicate="intersects")
    # a point on a shared edge touches two polygons: keep the first (stable, by polygon order)
    first = np.unique(pi, return_index=True)[1]
    pi, li = pi[first], li[first]
    lsoa[ok[pi]] = lsoas21["lsoa21_code"].to_numpy(dtype=object)[li]
    msoa[ok[pi]] = lsoas21["msoa21_code"].to_numpy(dtype=object)[li]
    return lsoa, msoa
