"""Police.uk rows carry an LSOA code of their own: which Census vintage is it, and does our
point-in-polygon assignment agree with it?

police.uk has published LSOA 2011 codes for most of its history and LSOA 2021 codes since the
2021 areas came in; a comparison may mix files from both. The vintage of each code is read from
the code itself: a code only in the 2011 set is 2011, only in the 2021 set is 2021, in both (the
unchanged LSOAs, ~93% of London) fits either. The agreement check places each police point in
the polygons of that vintage and reports the share that lands in the LSOA police.uk named (their
points are snapped to anonymised map points, so a few land next door).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.hotblocks.assign import to_bng


def vintage_of(codes: pd.Series, lsoa11: set[str], lsoa21: set[str]) -> pd.Series:
    """'2011', '2021', 'either' (code in both sets) or 'unknown' per code (None -> 'none')."""
    c = codes.astype("string")
    in11 = c.isin(lsoa11).fillna(False)
    in21 = c.isin(lsoa21).fillna(False)
    out = np.select(
        [c.isna().to_numpy(), (in11 & in21).to_numpy(), in11.to_numpy(), in21.to_numpy()],
        ["none", "either", "2011", "2021"],
        default="unknown",
    )
    return pd.Series(out, index=codes.index)


def file_vintage(v: pd.Series) -> str:
    """One word for a set of codes: 2011, 2021, mixed (both kinds seen), either or none."""
    kinds: set[str] = set(v) - {"none", "either", "unknown"}
    if kinds == {"2011", "2021"}:
        return "mixed"
    if kinds:
        return kinds.pop()
    return "either" if (v == "either").any() else "none"


def _contains(polys: gpd.GeoDataFrame, code_col: str, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    out = np.full(len(e), None, dtype=object)
    if not len(e) or not len(polys):
        return out
    tree = shapely.STRtree(np.asarray(polys.geometry.values, dtype=object))
    pi, li = tree.query(shapely.points(e, n), predicate="intersects")
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = polys[code_col].to_numpy(dtype=object)[li[first]]
    return out


def lsoa_agreement(
    police: pd.DataFrame, lsoas11: gpd.GeoDataFrame, lsoas21: gpd.GeoDataFrame
) -> dict[str, object]:
    """Vintage of the police LSOA codes and the share of points whose LSOA (in that vintage)
    agrees with the code police.uk gave. Police figures are public: exact counts."""
    codes = police.get("lsoa_code", pd.Series([None] * len(police), index=police.index))
    v = vintage_of(codes, set(lsoas11["lsoa_code"]), set(lsoas21.get("lsoa21_code", [])))
    lon = pd.to_numeric(police["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(police["lat"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat) & v.isin(["2011", "2021", "either"]).to_numpy()
    e = np.full(len(police), np.nan)
    n = np.full(len(police), np.nan)
    if ok.any():
        e[ok], n[ok] = to_bng(lon[ok], lat[ok])
    ours11 = _contains(lsoas11, "lsoa_code", e[ok], n[ok])
    ours21 = _contains(lsoas21, "lsoa21_code", e[ok], n[ok]) if len(lsoas21) else ours11
    theirs = codes.astype("object").to_numpy()[ok]
    vv = v.to_numpy()[ok]
    agree = np.where(
        vv == "2021",
        ours21 == theirs,
        np.where(vv == "2011", ours11 == theirs, (ours11 == theirs) | (ours21 == theirs)),
    )
    checked = int(ok.sum())
    return {
        "police_lsoa_vintage": file_vintage(v),
        "police_rows_with_lsoa": int((v != "none").sum()),
        "police_lsoa_codes_unknown": int((v == "unknown").sum()),
        "police_points_checked": checked,
        "police_points_lsoa_agrees": int(agree.sum()),
        "police_lsoa_agreement_share": round(float(agree.mean()), 4) if checked else None,
    }
