"""Assign located records to street blocks, H3 cells and LSOAs, vectorised.

Rules (docs/DISCLOSURE.md, "Assignment"):

* A *point* match (postcode, venue, station, junction) snaps to the nearest block within
  ``SNAP_M[match_type]`` metres (Hot Routes: snap to the nearest segment) if its precision is good
  enough (``precision_m <= MAX_SNAP_PRECISION_M``); otherwise it is not snapped.
* If the record's ``matched_name`` names a street of the network (a junction "A / B", a street),
  the record only ever snaps to a block carrying one of those names: it never crosses to the
  parallel street just because that one is nearer.
* A *street* match (the text named a street but no point on it) is spread in equal fractional
  weights over the blocks carrying that name within ``STREET_RADIUS_M`` of the street's point
  (same-name streets elsewhere in London are never touched); without such blocks it is not snapped.
* A *park* match (a venue whose name is a park's and whose point lies inside that park's
  polygon) lands on the block of the park's edge nearest the point (blocks within
  ``PARK_EDGE_M`` of the polygon), whatever the park's size: the precision of "in the park"
  is the polygon, not a radius, so Clapham Common's records reach the street around it.
* H3: the res-10 cell of the point (``h3.latlng_to_cell`` on each distinct point) and its H3
  parents at res 9 and 8 (bit arithmetic on the int64 index, so counts add up across
  resolutions). A cell is only given where the point's precision is finer than the cell
  (``HEX_MAX_PRECISION_M``). Stored as hex strings, the ``hex_id`` kepler.gl reads.
* LSOA: the record's own ``lsoa_code`` when the geocoder gave one, else point-in-polygon when an
  LSOA layer is supplied and the point is precise enough.

Everything works on whole arrays (shapely STRtree, numpy, pandas); the only Python loops run over
distinct names and distinct points, never over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.hotblocks.blockindex import NETWORK_COVERAGE_M, BlockIndex
from istvhub.hotblocks.cells import (
    _TO_BNG,
    _TO_WGS84,
    cells_to_str,
    h3_cells,
    h3_parent,
    to_bng,
)

__all__ = [
    "NETWORK_COVERAGE_M",
    "_TO_BNG",
    "_TO_WGS84",
    "Assignment",
    "BlockIndex",
    "assign",
    "cells_to_str",
    "h3_cells",
    "h3_parent",
    "to_bng",
]

#: Max snap distance (m) by match type of the geocoder; absent types are never snapped to a block.
SNAP_M: dict[str, float] = {"postcode": 50.0, "venue": 50.0, "station": 50.0, "junction": 50.0}
#: Points whose stated precision is coarser than this are not snapped (a postcode sector centroid).
MAX_SNAP_PRECISION_M = 150.0
#: Whole-street matches: blocks of that name within this radius of the street's point (clipped
#: between the two bounds by the record's precision).
STREET_RADIUS_M = (250.0, 2500.0)
STREET_MATCHES = frozenset({"street"})
#: A record gets an H3 cell at a resolution only if its precision is finer than this (m).
HEX_MAX_PRECISION_M: dict[int, float] = {8: 600.0, 9: 250.0, 10: 100.0}
HEX_RESOLUTIONS = (8, 9, 10)
#: Point-in-polygon LSOA only for points at least this precise (m).
LSOA_MAX_PRECISION_M = 250.0

#: Why a record did or did not reach a block (``snap_status``).
SNAP_STATUSES = (
    "snapped",
    "spread",
    "too_far",
    "imprecise",
    "street_not_in_network",
    "not_snappable",
    "outside_network",
    "not_located",
)
#: Imprecise junctions (a junction placed from postcodes, ~150-200 m) are put on the network's
#: own junction of the two named streets when one lies within this radius (m).
JUNCTION_SEARCH_M = (100.0, 600.0)
JUNCTION_MAX_PRECISION_M = 400.0


@dataclass
class Assignment:
    """Result of :func:`assign`.

    ``records``: one row per input record (same index) with ``snap_status``, ``hex_8``,
    ``hex_9``, ``hex_10`` (str or missing) and ``lsoa_code``.
    ``blocks``: long table ``record`` (input index label), ``block_id``, ``weight`` (weights of a
    record sum to 1; a point record has one row of weight 1).
    """

    records: pd.DataFrame
    blocks: pd.DataFrame


def _points_xy(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    x = pd.to_numeric(records["easting"], errors="coerce").to_numpy(dtype="float64")
    y = pd.to_numeric(records["northing"], errors="coerce").to_numpy(dtype="float64")
    return x, y


def _named_candidates(
    index: BlockIndex, pts: np.ndarray, radius: np.ndarray, names: pd.DataFrame
) -> pd.DataFrame:
    """All (pos, block, dist) with the block within ``radius`` of point ``pos`` and carrying one of
    the names in ``names`` (pos -> name_id). ``pos`` indexes ``pts``."""
    if len(pts) == 0 or names.empty:
        return pd.DataFrame({"pos": [], "block": [], "name_id": [], "dist": []})
    want = np.unique(names["pos"].to_numpy())
    q_pos, q_blk = index.tree.query(pts[want], predicate="dwithin", distance=radius[want])
    pairs = pd.DataFrame({"pos": want[q_pos], "block": q_blk.astype(np.int64)})
    pairs = pairs.merge(index.block_names, on="block").merge(names, on=["pos", "name_id"])
    pairs = pairs.drop_duplicates(["pos", "block"])
    pairs["dist"] = shapely.distance(
        pts[pairs["pos"].to_numpy()], index.geoms[pairs["block"].to_numpy()]
    )
    return pairs[["pos", "block", "name_id", "dist"]]


def _nearest_once(
    index: BlockIndex, x: np.ndarray, y: np.ndarray, d: float
) -> tuple[np.ndarray, np.ndarray]:
    """(point position, nearest block within ``d``) of the points with a block that near, as
    ``tree.query_nearest`` gives them, with each distinct point queried once (records repeat
    postcode and venue points; the nearest block of a point does not depend on the others)."""
    xy, inv = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    qi, qb = index.tree.query_nearest(
        shapely.points(xy[:, 0], xy[:, 1]), max_distance=d, all_matches=False
    )
    of_point = np.full(len(xy), -1, dtype=np.int64)
    of_point[qi] = qb
    per = of_point[inv.ravel()]
    hit = np.flatnonzero(per >= 0)
    return hit, per[hit]


def assign(
    records: pd.DataFrame,
    index: BlockIndex | gpd.GeoDataFrame,
    lsoas: gpd.GeoDataFrame | None = None,
) -> Assignment:
    """Assign each record (geocode columns as in ``records.GEOCODE_COLUMNS``) to blocks, H3
    cells and an LSOA; see the module docstring for the rules."""
    if not isinstance(index, BlockIndex):
        index = BlockIndex(index)
    n = len(records)
    x, y = _points_xy(records)
    status = records.get("geo_status", pd.Series(["located"] * n, index=records.index))
    located = (
        (status == "located").fillna(False).to_numpy(dtype=bool) & np.isfinite(x) & np.isfinite(y)
    )
    mtype = records.get("match_type", pd.Series([None] * n, index=records.index))
    prec = pd.to_numeric(
        records.get("precision_m", pd.Series(np.nan, index=records.index)), errors="coerce"
    ).to_numpy(dtype="float64")
    prec_f = np.where(np.isfinite(prec), prec, 0.0)

    code = {s: i for i, s in enumerate(SNAP_STATUSES)}
    snap_status = np.full(n, code["not_located"], dtype=np.int8)
    pts = shapely.points(np.where(located, x, 0.0), np.where(located, y, 0.0))

    snap_d = pd.to_numeric(mtype.map(SNAP_M), errors="coerce").to_numpy(dtype="float64")
    is_point = located & np.isfinite(snap_d)
    is_street = located & mtype.isin(list(STREET_MATCHES)).fillna(False).to_numpy(dtype=bool)
    snap_status[located] = code["not_snappable"]
    imprecise = is_point & (prec_f > MAX_SNAP_PRECISION_M)
    snap_status[imprecise] = code["imprecise"]
    is_point &= ~imprecise

    matched = records.get("matched_name", pd.Series([None] * n, index=records.index))
    cand = np.flatnonzero(is_point | imprecise | is_street)
    names = index.name_ids_of(matched.iloc[cand].reset_index(drop=True))
    names["pos"] = cand[names["pos"].to_numpy()]
    has_name = np.zeros(n, dtype=bool)
    has_name[names["pos"].to_numpy()] = True

    rec_pos: list[np.ndarray] = []
    blk_pos: list[np.ndarray] = []
    weights: list[np.ndarray] = []

    # 1. unconstrained point matches: nearest block within the snap distance
    free = is_point & ~has_name
    for d in np.unique(snap_d[free]):
        sel = np.flatnonzero(free & (snap_d == d))
        qi, qb = _nearest_once(index, x[sel], y[sel], float(d))
        rec_pos.append(sel[qi])
        blk_pos.append(qb.astype(np.int64))
        weights.append(np.ones(len(qi)))
        hit = np.zeros(len(sel), dtype=bool)
        hit[qi] = True
        snap_status[sel[hit]] = code["snapped"]
        snap_status[sel[~hit]] = code["too_far"]

    # 2. point matches that named a street: nearest block of that name within the snap distance
    named_pt = np.flatnonzero(is_point & has_name)
    if len(named_pt):
        radius = np.where(is_point, snap_d, 0.0)
        pairs = _named_candidates(
            index, pts, radius, names[np.isin(names["pos"].to_numpy(), named_pt)]
        )
        pairs["bid"] = index.block_ids[pairs["block"].to_numpy()]
        best = pairs.sort_values(["pos", "dist", "bid"], kind="stable").drop_duplicates("pos")
        rec_pos.append(best["pos"].to_numpy())
        blk_pos.append(best["block"].to_numpy())
        weights.append(np.ones(len(best)))
        snap_status[named_pt] = code["too_far"]
        snap_status[best["pos"].to_numpy()] = code["snapped"]

    # 2b. imprecise junctions: the network's own junction of the two named streets, if near
    jn = np.flatnonzero(
        imprecise
        & (mtype == "junction").fillna(False).to_numpy(dtype=bool)
        & (prec_f <= JUNCTION_MAX_PRECISION_M)
    )
    if len(jn):
        jnames = names[np.isin(names["pos"].to_numpy(), jn)]
        radius = np.clip(prec_f * 1.5, *JUNCTION_SEARCH_M)
        pairs = _named_candidates(index, pts, radius, jnames)
        if len(pairs):
            m = pairs.merge(index.ends, on="block")
            j = m.merge(m[["pos", "key", "name_id"]], on=["pos", "key"], suffixes=("", "_o"))
            keys = j[j["name_id"] != j["name_id_o"]][["pos", "key"]].drop_duplicates()
            hits = m.merge(keys, on=["pos", "key"]).drop_duplicates(["pos", "block"])
            hits["bid"] = index.block_ids[hits["block"].to_numpy()]
            best = hits.sort_values(["pos", "dist", "bid"], kind="stable").drop_duplicates("pos")
            rec_pos.append(best["pos"].to_numpy())
            blk_pos.append(best["block"].to_numpy())
            weights.append(np.ones(len(best)))
            snap_status[best["pos"].to_numpy()] = code["snapped"]

    # 2c. a park or common (its polygon holds the point, its name is the match): the block
    # of its edge nearest the point (hotblocks/parks.py), however big the park
    in_park = np.flatnonzero(
        located
        & (mtype == "venue").fillna(False).to_numpy(dtype=bool)
        & np.isin(snap_status, [code["imprecise"], code["too_far"]])
    )
    if len(in_park) and index.parks.n:
        pos, blk = index.parks.edge_blocks(pts[in_park], matched.iloc[in_park].tolist())
        rec_pos.append(in_park[pos])
        blk_pos.append(blk)
        weights.append(np.ones(len(pos)))
        snap_status[in_park[pos]] = code["snapped"]

    # 3. whole-street matches: spread over that street's nearby blocks
    street = np.flatnonzero(is_street)
    if len(street):
        snap_status[street] = code["street_not_in_network"]
        radius = np.clip(prec_f, *STREET_RADIUS_M)
        pairs = _named_candidates(
            index, pts, radius, names[np.isin(names["pos"].to_numpy(), street)]
        )
        if len(pairs):
            pairs = pairs.sort_values(["pos", "block"], kind="stable")
            cnt = pairs.groupby("pos")["block"].transform("size").to_numpy()
            rec_pos.append(pairs["pos"].to_numpy())
            blk_pos.append(pairs["block"].to_numpy())
            weights.append(1.0 / cnt)
            snap_status[np.unique(pairs["pos"].to_numpy())] = code["spread"]

    # failures where the street network has no block at all nearby say so: the network does
    # not cover all of London, and that is not the geocoder's fault
    failed = np.flatnonzero(
        np.isin(snap_status, [code["too_far"], code["street_not_in_network"], code["imprecise"]])
    )
    if len(failed):
        covered = index.covered(x[failed], y[failed])
        snap_status[failed[~covered]] = code["outside_network"]

    if rec_pos:
        rp = np.concatenate(rec_pos).astype(np.int64)
        bp = np.concatenate(blk_pos).astype(np.int64)
        w = np.concatenate(weights)
    else:
        rp = bp = np.array([], dtype=np.int64)
        w = np.array([], dtype="float64")
    order = np.lexsort((bp, rp))
    blocks_long = pd.DataFrame(
        {
            "record": records.index.to_numpy()[rp[order]],
            "block_id": index.block_ids[bp[order]],
            "weight": w[order],
        }
    )

    # H3
    lat = pd.to_numeric(
        records.get("lat", pd.Series(np.nan, index=records.index)), errors="coerce"
    ).to_numpy(dtype="float64")
    lon = pd.to_numeric(
        records.get("lon", pd.Series(np.nan, index=records.index)), errors="coerce"
    ).to_numpy(dtype="float64")
    need = located & ~(np.isfinite(lat) & np.isfinite(lon))
    if need.any():
        lon_t, lat_t = _TO_WGS84.transform(x[need], y[need])
        lat = lat.copy()
        lon = lon.copy()
        lat[need], lon[need] = lat_t, lon_t
    lat = np.where(located, lat, np.nan)
    lon = np.where(located, lon, np.nan)
    top = max(HEX_RESOLUTIONS)
    cells = h3_cells(lat, lon, top)
    out = pd.DataFrame(index=records.index)
    out["snap_status"] = pd.Categorical.from_codes(
        snap_status, categories=pd.Index(list(SNAP_STATUSES))
    )
    for res in HEX_RESOLUTIONS:
        c = cells if res == top else h3_parent(cells, res)
        ok = located & (prec_f <= HEX_MAX_PRECISION_M[res]) & (cells != 0)
        c = np.where(ok, c, np.uint64(0))
        out[f"hex_{res}"] = cells_to_str(c)

    # LSOA
    lsoa = records.get("lsoa_code", pd.Series([None] * n, index=records.index))
    lsoa = lsoa.astype(object).where(located, None)
    if lsoas is not None and len(lsoas):
        missing = np.flatnonzero(
            located & lsoa.isna().to_numpy() & (prec_f <= LSOA_MAX_PRECISION_M)
        )
        if len(missing):
            from istvhub.hotblocks.netmemo import lsoa_tree

            all_codes, ptree = lsoa_tree(index, lsoas)
            pi, li = ptree.query(pts[missing], predicate="within")
            first = pd.DataFrame({"p": pi, "l": li}).sort_values(["p", "l"]).drop_duplicates("p")
            codes = all_codes[first["l"].to_numpy()]
            lsoa.iloc[missing[first["p"].to_numpy()]] = codes
    out["lsoa_code"] = lsoa.to_numpy()
    return Assignment(records=out, blocks=blocks_long)
