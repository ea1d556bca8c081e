"""Gazetteer rows from postcodes and streets: units, sectors, districts, streets (from the
postcode -> street table and from network names), and the shared helpers the build uses."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer import network as net
from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.raw import display_case


def _nearest_district(
    tree: shapely.STRtree, districts: np.ndarray, pts: np.ndarray, within_m: float = 3000.0
) -> np.ndarray:
    """Postcode district of the nearest unit postcode (None beyond ``within_m``).

    ``query_nearest`` without ``max_distance`` is several times faster here; the distance is
    checked afterwards."""
    out = np.full(len(pts), None, dtype=object)
    if len(pts) == 0:
        return out
    pi, ci = tree.query_nearest(pts, all_matches=False)
    d = shapely.distance(pts[pi], tree.geometries[ci])
    ok = d <= within_m
    out[pi[ok]] = districts[ci[ok]]
    return out


def _hash(*parts: object, n: int = 12) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:n]


def _nearest_spread(e: np.ndarray, n: np.ndarray, gid: np.ndarray, ngroups: int):
    """Per group: index of the member point nearest the group mean, and the farthest distance
    of any member from it (the street's or sector's spread)."""
    df = pd.DataFrame({"g": gid, "e": e, "n": n})
    me = df.groupby("g")["e"].transform("mean").to_numpy()
    mn = df.groupby("g")["n"].transform("mean").to_numpy()
    d0 = np.hypot(e - me, n - mn)
    rep = pd.Series(d0).groupby(gid).idxmin().reindex(range(ngroups)).to_numpy()
    re_, rn = e[rep][gid], n[rep][gid]
    spread = pd.Series(np.hypot(e - re_, n - rn)).groupby(gid).max().reindex(range(ngroups))
    return rep, spread.to_numpy()


def _group_mode(gid: np.ndarray, values: pd.Series) -> pd.Series:
    """Most common value per group (ties: the smallest value), vectorised."""
    df = pd.DataFrame({"g": gid, "v": values.to_numpy()})
    c = df.groupby(["g", "v"], sort=True).size().rename("n").reset_index()
    c = c.sort_values(["g", "n", "v"], ascending=[True, False, True], kind="stable")
    return c.drop_duplicates("g").set_index("g")["v"]


def _mode(s: pd.Series):
    m = s.mode()
    return m.iloc[0] if len(m) else None


def _postcode_entries(cp: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "entry_id": "postcode:" + cp["postcode"].str.replace(" ", "", regex=False),
            "entry_type": "postcode",
            "name": cp["postcode"],
            "easting": cp["easting"],
            "northing": cp["northing"],
            "precision_m": np.where(cp["quality"] <= 10, 25.0, 100.0),
            "borough": cp["borough"],
            "lsoa_code": cp["lsoa_code"],
            "district": cp["district"],
            "source": "codepoint",
            "category": None,
        }
    )
    return out


def _area_units(cp: pd.DataFrame, col: str, etype: str) -> pd.DataFrame:
    """Postcode sectors / districts: centroid of their units, spread as precision."""
    g = cp.groupby(col, sort=True)
    cen = g[["easting", "northing"]].mean()
    boro = g["borough"].agg(_mode)
    tmp = cp[[col, "easting", "northing"]].merge(
        cen.add_suffix("_c"), left_on=col, right_index=True, how="left"
    )
    d = np.hypot(tmp["easting"] - tmp["easting_c"], tmp["northing"] - tmp["northing_c"])
    spread = d.groupby(tmp[col]).quantile(0.9)
    out = pd.DataFrame(
        {
            "entry_id": etype + ":" + cen.index.str.replace(" ", "", regex=False),
            "entry_type": etype,
            "name": cen.index,
            "easting": cen["easting"].to_numpy(),
            "northing": cen["northing"].to_numpy(),
            "precision_m": np.maximum(spread.reindex(cen.index).to_numpy(), 100.0),
            "borough": boro.reindex(cen.index).to_numpy(),
            "lsoa_code": None,
            "district": [x.split(" ")[0] for x in cen.index],
            "source": "codepoint",
            "category": None,
        }
    )
    return out.reset_index(drop=True)


def _street_entries(ps: pd.DataFrame, cp: pd.DataFrame):
    """(street entries, street points) from postcode -> street joined to unit points."""
    sp = ps.merge(
        cp[["postcode", "easting", "northing", "borough", "district", "lsoa_code"]],
        on="postcode",
        how="inner",
    )
    sp["key"] = sp["street"].map(_cached_norm)
    sp = sp[sp["key"] != ""].sort_values(["borough", "key", "postcode"]).reset_index(drop=True)
    gid_s = sp.groupby(["key", "borough"], sort=True).ngroup().to_numpy()
    ng = int(gid_s.max()) + 1 if len(gid_s) else 0
    rep, spread = _nearest_spread(sp["easting"].to_numpy(), sp["northing"].to_numpy(), gid_s, ng)
    first = sp.groupby(gid_s).first()
    display = _group_mode(gid_s, sp["street"]).map(display_case)
    district = _group_mode(gid_s, sp["district"])
    ids = ["street:" + _hash(k, b) for k, b in zip(first["key"], first["borough"], strict=True)]
    streets = pd.DataFrame(
        {
            "entry_id": ids,
            "entry_type": "street",
            "name": display.to_numpy(),
            "easting": sp["easting"].to_numpy()[rep],
            "northing": sp["northing"].to_numpy()[rep],
            "precision_m": np.maximum(spread + 25.0, 50.0),
            "borough": first["borough"].to_numpy(),
            "lsoa_code": sp["lsoa_code"].to_numpy()[rep],
            "district": district.to_numpy(),
            "source": "postcode_streets",
            "category": None,
        }
    )
    points = pd.DataFrame(
        {
            "entry_id": np.asarray(ids, dtype=object)[gid_s],
            "easting": sp["easting"].to_numpy(),
            "northing": sp["northing"].to_numpy(),
            "postcode": sp["postcode"].to_numpy(),
            "key": sp["key"].to_numpy(),
            "borough": sp["borough"].to_numpy(),
        }
    )
    return streets, points


_NORM_CACHE: dict[str, str] = {}


def _cached_norm(s: str) -> str:
    r = _NORM_CACHE.get(s)
    if r is None:
        r = _NORM_CACHE[s] = normalise_name(s)
    return r


def _osm_street_entries(blocks: gpd.GeoDataFrame, streets: pd.DataFrame):
    """Streets the network names but the postcode table lacks (e.g. City alleys)."""
    if blocks.empty:
        return streets.iloc[:0], pd.DataFrame()
    have = set(zip(streets["name"].map(_cached_norm), streets["borough"], strict=True))
    b = blocks[(blocks["names_key"] != "") & blocks["borough"].notna()].copy()
    b["key"] = b["name"].map(_cached_norm)
    b = b[[(k, bo) not in have for k, bo in zip(b["key"], b["borough"], strict=True)]]
    b = b[b["key"] != ""]
    if b.empty:
        return streets.iloc[:0], pd.DataFrame()
    mid = shapely.line_interpolate_point(b.geometry.values, 0.5, normalized=True)
    b["e"] = shapely.get_x(mid)
    b["n"] = shapely.get_y(mid)
    b = b.sort_values(["borough", "key", "block_id"]).reset_index(drop=True)
    gid = b.groupby(["key", "borough"], sort=True).ngroup().to_numpy()
    ng = int(gid.max()) + 1
    rep, spread = _nearest_spread(b["e"].to_numpy(), b["n"].to_numpy(), gid, ng)
    first = b.groupby(gid).first()
    ids = ["street:" + _hash(k, bo) for k, bo in zip(first["key"], first["borough"], strict=True)]
    half = b.groupby(gid)["length_m"].max().to_numpy() / 2
    ent = pd.DataFrame(
        {
            "entry_id": ids,
            "entry_type": "street",
            "name": first["name"].to_numpy(),
            "easting": b["e"].to_numpy()[rep],
            "northing": b["n"].to_numpy()[rep],
            "precision_m": np.maximum(spread + half, 30.0),
            "borough": first["borough"].to_numpy(),
            "lsoa_code": None,
            "district": None,
            "source": "osm",
            "category": None,
        }
    )
    pts = pd.DataFrame(
        {
            "entry_id": np.asarray(ids, dtype=object)[gid],
            "easting": b["e"],
            "northing": b["n"],
            "postcode": None,
            "key": b["key"],
            "borough": b["borough"],
        }
    )
    return ent, pts


def _borough_name_map(boroughs: gpd.GeoDataFrame) -> dict[str, str]:
    m = {normalise_name(n): n for n in boroughs["name"]}
    m["city"] = "City of London"
    m["city of westminster"] = "Westminster"
    return m


#: Same type and name closer than this is one place (the same pub in two source layers, a
#: hospital in CQC and NHS data, the bus stops on both sides of a road).
DEDUPE_M = {
    "venue": 60.0,
    "school": 60.0,
    "cycle_dock": 30.0,
    "bus_stop": 150.0,
    "station": 400.0,
    "hospital": 400.0,
    "area": 300.0,
}


def _dedupe_near(df: pd.DataFrame, radius: dict[str, float]) -> pd.DataFrame:
    """Drop later rows of the same type and key within the type's radius of an earlier one."""
    dup_keys = df.duplicated(["entry_type", "key"], keep=False)
    if not dup_keys.any():
        return df
    drop: set[int] = set()
    sub = df[dup_keys]
    for (etype, _), g in sub.groupby(["entry_type", "key"], sort=False):
        within_m = radius.get(etype, 100.0)
        kept: list[tuple[float, float]] = []
        for idx, e, n in zip(g.index, g["easting"], g["northing"], strict=True):
            if any((e - ke) ** 2 + (n - kn) ** 2 < within_m**2 for ke, kn in kept):
                drop.add(idx)
            else:
                kept.append((e, n))
    return df.drop(index=list(drop))


def _fill_lsoa_district(entries: pd.DataFrame, lsoas, lsoa_tree, cp: pd.DataFrame) -> None:
    """LSOA by point-in-polygon and postcode district of the nearest unit, where missing."""
    miss = entries["lsoa_code"].isna() & ~entries["entry_type"].isin(
        ["postcode_sector", "postcode_district", "borough"]
    )
    if miss.any():
        entries.loc[miss, "lsoa_code"] = net.lsoa_of(
            lsoas, lsoa_tree, entries.loc[miss, "easting"], entries.loc[miss, "northing"]
        )
    miss = entries["district"].isna() & (entries["entry_type"] != "borough")
    if miss.any():
        tree = shapely.STRtree(shapely.points(cp["easting"].to_numpy(), cp["northing"].to_numpy()))
        pts = shapely.points(
            entries.loc[miss, "easting"].to_numpy(float),
            entries.loc[miss, "northing"].to_numpy(float),
        )
        entries.loc[miss, "district"] = _nearest_district(tree, cp["district"].to_numpy(), pts)
