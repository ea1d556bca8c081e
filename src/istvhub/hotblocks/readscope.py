"""Which records a borough-filtered build must read: one box per assignment rule (issue 16).

A borough's units are its blocks (by the block's own borough), the H3 cells whose centre lies in
one of its LSOAs, and its LSOAs / 2021 areas (``hotblocks.scope``). A record can only reach one
of them if its point lies near them, and how near depends on the rule that assigns it
(``hotblocks.assign``):

* any located record: the box of the borough's areas widened by two H3 edge lengths of the
  asked resolution (its cell's centre can be in the borough), and the box of its blocks widened
  by the point snap distance;
* junctions: the blocks' box widened by the widest junction search radius;
* whole-street matches: the blocks' box widened by the record's own spread radius
  (``clip(precision_m, 250, 2500)``), evaluated per record in the query;
* park venues: the boxes of the parks whose edge touches one of the borough's blocks (a park
  record lands on the edge block nearest its point, however big the park).

Records geocoded to the borough are read as well (the totals and summary count them), and so
are records whose stored LSOA / 2021 area code is one of the borough's. The boxes depend only on
the gazetteer, so they are computed once per block index (its ``memo``).
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import shapely

from istvhub.hotblocks.assign import (
    JUNCTION_SEARCH_M,
    SNAP_M,
    STREET_MATCHES,
    STREET_RADIUS_M,
    BlockIndex,
)
from istvhub.hotblocks.netmemo import memo
from istvhub.hotblocks.parks import PARK_EDGE_M
from istvhub.store.repos.layers import Box, BoxRule, ReadScope

#: metres of slack on every box (float rounding of distances)
SLACK_M = 1.0


Bounds = tuple[float, float, float, float]


def _grow(b: Bounds, m: float) -> Bounds:
    return (b[0] - m, b[1] - m, b[2] + m, b[3] + m)


def _union(a: Bounds | None, b: Bounds | None) -> Bounds | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _bounds(geoms: np.ndarray) -> Bounds | None:
    if not len(geoms):
        return None
    b = [float(v) for v in shapely.total_bounds(geoms)]
    return (b[0], b[1], b[2], b[3]) if all(np.isfinite(b)) else None


def _in(frame: gpd.GeoDataFrame, boroughs: tuple[str, ...]) -> np.ndarray:
    want = [b.lower() for b in boroughs]
    low = frame["borough"].astype("string").str.lower()
    return np.asarray(low.isin(want).fillna(False).to_numpy(dtype=bool), dtype=bool)


def _to_bng(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(27700) if frame.crs and frame.crs.to_epsg() != 27700 else frame


def read_scope(
    index: BlockIndex,
    boroughs: tuple[str, ...],
    h3_res: int,
    lsoas: gpd.GeoDataFrame | None,
    areas21: dict[str, gpd.GeoDataFrame] | None = None,
) -> ReadScope | None:
    """The records a build for ``boroughs`` must read, or None when the whole range must be
    read (no borough filter, or the network lacks what tells units' boroughs apart)."""
    if not boroughs or "borough" not in index.blocks.columns:
        return None
    if lsoas is None or not len(lsoas) or "borough" not in lsoas.columns:
        return None  # hexes and LSOAs then fall back to the records' own borough
    areas = [("lsoa_code", lsoas)]
    for name, code in (("lsoas21", "lsoa21_code"), ("msoas21", "msoa21_code")):
        poly = (areas21 or {}).get(name)
        if poly is not None and len(poly):
            if "borough" not in poly.columns:
                return None
            areas.append((code, poly))
    key = ("read_scope", tuple(sorted(b.lower() for b in boroughs)), h3_res)
    refs = tuple(p for _, p in areas)
    return memo(index, key, refs, lambda: _compute(index, boroughs, h3_res, areas))


def _compute(
    index: BlockIndex,
    boroughs: tuple[str, ...],
    h3_res: int,
    areas: list[tuple[str, gpd.GeoDataFrame]],
) -> ReadScope:
    blocks = index.geoms[_in(index.blocks, boroughs)]
    blk = _bounds(blocks)
    area_box: Bounds | None = None
    codes: dict[str, tuple[str, ...]] = {}
    for col, poly in areas:
        sel = _in(poly, boroughs)
        mine = _to_bng(poly[sel])
        area_box = _union(area_box, _bounds(np.asarray(mine.geometry.values, dtype=object)))
        codes[col] = tuple(sorted(set(mine[col].dropna().astype(str))))
    rules: list[BoxRule] = []
    hex_m = 2.0 * h3.average_hexagon_edge_length(h3_res, unit="m") + SLACK_M
    near = _union(
        None if area_box is None else _grow(area_box, hex_m),
        None if blk is None else _grow(blk, max(SNAP_M.values()) + SLACK_M),
    )
    if near is not None:
        rules.append(BoxRule(Box(*near)))
    if blk is not None:
        rules.append(BoxRule(Box(*_grow(blk, JUNCTION_SEARCH_M[1] + SLACK_M)), ("junction",)))
        lo, hi = STREET_RADIUS_M
        rules.append(
            BoxRule(Box(*_grow(blk, SLACK_M)), tuple(sorted(STREET_MATCHES)), (1.0, lo, hi))
        )
        parks = index.parks
        if parks.n:
            hits = parks.tree.query(blocks, predicate="dwithin", distance=PARK_EDGE_M)[1]
            pb = _bounds(parks.geoms[np.unique(hits)])
            if pb is not None:
                rules.append(BoxRule(Box(*_grow(pb, SLACK_M)), ("venue",)))
    return ReadScope(boroughs=tuple(boroughs), rules=tuple(rules), codes=codes)
