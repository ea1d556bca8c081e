"""Street network -> blocks: one network from every line source, noded at junctions, with
pass-through nodes merged so that a block runs junction to junction (Weisburd's street segment:
both sides of a street between two intersections).

Steps (shapely only, no hand-rolled geometry):
1. read each line source in EPSG:27700 and drop lines that a higher-priority source already
   covers (>= 80 % of the line within 2 m), so overlapping extracts do not double streets;
2. split lines where they share a vertex (OSM nodes; ``noding="crossings"`` uses
   ``shapely.node`` for layers that cross without shared vertices);
3. give each noded piece the names/highway of the source lines it lies on (STRtree);
4. merge pieces through nodes of degree 2 whose names are unchanged (union-find);
5. stable ``block_id``: hash of sorted end nodes rounded to 0.1 m, names and midpoint.

Bridges and tunnels share no vertex with the streets they cross, so they are not noded there.
Blocks shorter than MIN_BLOCK_M are dropped.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.road_lines import read_lines

#: Highway rank: the block's highway is the most important of its pieces.
_HW_RANK = [
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
    "road",
    "busway",
    "pedestrian",
    "service",
    "footway",
    "path",
    "steps",
    "cycleway",
    "track",
    "bridleway",
]
UNNAMED = "(unnamed)"
#: Blocks shorter than this (OSM node pairs a metre apart at junctions) are dropped: they carry
#: no street of their own and would give absurd incidents-per-metre rates.
MIN_BLOCK_M = 2.0

BLOCK_COLUMNS = ["block_id", "name", "names_key", "highway", "borough", "length_m", "geometry"]


def _empty_blocks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype="object") for c in BLOCK_COLUMNS[:-2]}
        | {"length_m": pd.Series(dtype=float)},
        geometry=gpd.GeoSeries([], crs=27700),
        crs=27700,
    )


def read_all_lines(
    files: Sequence[Path], log: Callable[[str], None] = lambda m: None
) -> gpd.GeoDataFrame:
    """Every line source, deduplicated: later files only add lines not already covered."""
    kept: list[gpd.GeoDataFrame] = []
    for f in files:
        g = read_lines(Path(f))
        if g.empty:
            continue
        if kept:
            g = g[
                covered_share(g.geometry.values, np.concatenate([k.geometry.values for k in kept]))
                < 0.8
            ]
        log(f"{Path(f).name}: {len(g)} lines")
        if not g.empty:
            kept.append(g)
    if not kept:
        return gpd.GeoDataFrame({"names": [], "highway": []}, geometry=[], crs=27700)
    return gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), crs=27700)


def covered_share(
    lines: np.ndarray, earlier: np.ndarray, within_m: float = 2.0, step_m: float = 5.0
) -> np.ndarray:
    """Share of each line lying within ``within_m`` of an earlier line, from points sampled
    every ``step_m`` along it (an STRtree radius query, not a union of buffers)."""
    n = np.maximum(np.ceil(shapely.length(lines) / step_m).astype(int), 1) + 1
    owner = np.repeat(np.arange(len(lines)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    frac = (np.arange(len(owner)) - start) / np.repeat(n - 1, n)
    pts = shapely.line_interpolate_point(lines[owner], frac, normalized=True)
    hit, _ = shapely.STRtree(earlier).query(pts, predicate="dwithin", distance=within_m)
    covered = np.zeros(len(pts), dtype=bool)
    covered[hit] = True
    return np.bincount(owner, weights=covered, minlength=len(lines)) / n


def _hash(*parts: object, n: int = 12) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:n]


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def split_at_shared_vertices(geoms: np.ndarray) -> np.ndarray:
    """Split lines at every vertex that two or more lines share (vectorised).

    OSM ways meet at shared nodes and OS Open Roads links end at their junctions, so this nodes
    real junctions without inventing ones where a bridge or tunnel crosses a street."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return np.asarray([], dtype=object)
    _, vid = np.unique(np.round(coords, 2), axis=0, return_inverse=True)
    vid = vid.ravel()
    vl = np.unique(np.stack([vid, idx], axis=1), axis=0)
    nlines = np.bincount(vl[:, 0], minlength=int(vid.max()) + 1)
    first = np.r_[True, idx[1:] != idx[:-1]]
    last = np.r_[idx[1:] != idx[:-1], True]
    cut = (nlines[vid] >= 2) & ~first & ~last
    rep = np.where(cut, 2, 1)
    coords2 = np.repeat(coords, rep, axis=0)
    line2 = np.repeat(idx, rep)
    new_piece = np.zeros(len(coords2), dtype=bool)
    new_piece[(np.cumsum(rep) - 1)[cut]] = True  # the second copy of a cut vertex starts a piece
    new_piece |= np.r_[True, line2[1:] != line2[:-1]]
    piece = np.cumsum(new_piece) - 1
    return np.asarray(shapely.linestrings(coords2, indices=piece))


def build_blocks(
    lines: gpd.GeoDataFrame, boroughs: gpd.GeoDataFrame, noding: str = "shared_vertices"
) -> gpd.GeoDataFrame:
    """Node the lines at junctions and merge pass-through nodes into junction-to-junction
    blocks with names, highway, borough and length.

    ``noding="shared_vertices"`` (default) splits where lines share a vertex (OSM, OS Open
    Roads); ``"crossings"`` uses ``shapely.node`` for layers whose lines cross without a shared
    vertex (it also nodes bridges over streets)."""
    if lines.empty:
        return _empty_blocks()
    geoms = lines.geometry.values
    if noding == "crossings":
        noded = shapely.node(shapely.MultiLineString(list(geoms)) if len(geoms) > 1 else geoms[0])
        pieces = np.asarray(shapely.get_parts(noded))
    else:
        pieces = split_at_shared_vertices(geoms)
    pieces = pieces[shapely.length(pieces) >= MIN_BLOCK_M]
    # the same stretch from two sources once only
    wkb = shapely.to_wkb(shapely.normalize(shapely.set_precision(pieces, 0.01)))
    _, first_of = np.unique(wkb, return_index=True)
    pieces = pieces[np.sort(first_of)]
    # names of the source lines each piece lies on
    tree = shapely.STRtree(geoms)
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    pi, li = tree.query(mids, predicate="dwithin", distance=0.05)
    names_of: list[set[str]] = [set() for _ in range(len(pieces))]
    hw_of: list[str] = ["" for _ in range(len(pieces))]
    rank = {h: i for i, h in enumerate(_HW_RANK)}
    src_names = lines["names"].tolist()
    src_hw = lines["highway"].tolist()
    for p, q in zip(pi.tolist(), li.tolist(), strict=True):
        names_of[p].update(src_names[q])
        h = src_hw[q]
        if not hw_of[p] or rank.get(h, 99) < rank.get(hw_of[p], 99):
            hw_of[p] = h
    keys = ["|".join(sorted({normalise_name(n) for n in s} - {""})) for s in names_of]
    # nodes: piece end points rounded to 0.1 m
    starts = np.round(shapely.get_coordinates(shapely.get_point(pieces, 0)), 1)
    ends = np.round(shapely.get_coordinates(shapely.get_point(pieces, -1)), 1)
    incident: dict[tuple[float, float], list[int]] = defaultdict(list)
    for i, (s, e) in enumerate(zip(map(tuple, starts), map(tuple, ends), strict=True)):
        incident[s].append(i)
        incident[e].append(i)
    parent = list(range(len(pieces)))
    for inc in incident.values():
        if len(inc) == 2 and inc[0] != inc[1] and keys[inc[0]] == keys[inc[1]]:
            a, b = _find(parent, inc[0]), _find(parent, inc[1])
            if a != b:
                parent[a] = b
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(pieces)):
        groups[_find(parent, i)].append(i)
    rows = []
    for members in groups.values():
        merged = shapely.line_merge(shapely.MultiLineString([pieces[i] for i in members]))
        parts = shapely.get_parts(merged) if merged.geom_type == "MultiLineString" else [merged]
        names = sorted(set().union(*(names_of[i] for i in members)))
        hw = min((hw_of[i] for i in members), key=lambda h: rank.get(h, 99))
        for part in parts:
            rows.append((part, names, keys[members[0]], hw))
    geom = np.array([r[0] for r in rows], dtype=object)
    a = np.round(shapely.get_coordinates(shapely.get_point(geom, 0)), 1)
    b = np.round(shapely.get_coordinates(shapely.get_point(geom, -1)), 1)
    mid = np.round(
        shapely.get_coordinates(shapely.line_interpolate_point(geom, 0.5, normalized=True)), 1
    )
    ids = []
    for k, r in enumerate(rows):
        ends_sorted = sorted([tuple(a[k]), tuple(b[k])])
        ids.append("blk:" + _hash(ends_sorted, r[2], tuple(mid[k]), n=14))
    primary = [r[1][0] if r[1] else UNNAMED for r in rows]
    blocks = gpd.GeoDataFrame(
        {
            "block_id": ids,
            "name": primary,
            "names_key": [r[2] for r in rows],
            "highway": [r[3] for r in rows],
            "length_m": shapely.length(geom),
        },
        geometry=geom,
        crs=27700,
    )
    blocks = blocks[blocks["length_m"] >= MIN_BLOCK_M].drop_duplicates("block_id")
    blocks["borough"] = _borough_of_points(
        shapely.line_interpolate_point(blocks.geometry.values, 0.5, normalized=True), boroughs
    )
    blocks = blocks.sort_values("block_id").reset_index(drop=True)
    return blocks[BLOCK_COLUMNS]


def _borough_of_points(points: np.ndarray, boroughs: gpd.GeoDataFrame) -> np.ndarray:
    """Borough name for each point (nearest borough within 200 m if just outside, else None)."""
    out = np.full(len(points), None, dtype=object)
    if len(points) == 0:
        return out
    tree = shapely.STRtree(boroughs.geometry.values)
    pi, bi = tree.query(points, predicate="intersects")
    names = boroughs["name"].to_numpy()
    out[pi] = names[bi]
    miss = np.flatnonzero(pd.isna(out))
    if len(miss):
        mi, bj = tree.query_nearest(np.asarray(points)[miss], max_distance=200.0)
        out[miss[mi]] = names[bj]
    return out


def network_junctions(blocks: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every pair of differently-named streets meeting at a network node, one row per pair and
    place (nodes of the same pair within 60 m, e.g. dual carriageways, are merged)."""
    cols = ["street_a", "street_b", "name_a", "name_b", "easting", "northing", "borough"]
    if blocks.empty:
        return pd.DataFrame(columns=cols)
    geom = blocks.geometry.values
    a = np.round(shapely.get_coordinates(shapely.get_point(geom, 0)), 1)
    b = np.round(shapely.get_coordinates(shapely.get_point(geom, -1)), 1)
    at: dict[tuple[float, float], dict[str, str]] = defaultdict(dict)
    boro: dict[tuple[float, float], str] = {}
    for k, (names_key, name, bo) in enumerate(
        zip(blocks["names_key"], blocks["name"], blocks["borough"], strict=True)
    ):
        if not names_key:
            continue
        for node in (tuple(a[k]), tuple(b[k])):
            for key in names_key.split("|"):
                at[node].setdefault(key, name if normalise_name(name) == key else key.title())
            boro.setdefault(node, bo)
    pairs: dict[tuple[str, str], list[tuple[float, float, str, str, str | None]]] = defaultdict(
        list
    )
    for node, streets in at.items():
        if len(streets) < 2:
            continue
        ks = sorted(streets)
        for i in range(len(ks)):
            for j in range(i + 1, len(ks)):
                pairs[(ks[i], ks[j])].append(
                    (node[0], node[1], streets[ks[i]], streets[ks[j]], boro[node])
                )
    rows = []
    for (ka, kb), pts in pairs.items():
        clusters: list[list[tuple[float, float, str, str, str | None]]] = []
        for p in pts:
            for c in clusters:
                if (c[0][0] - p[0]) ** 2 + (c[0][1] - p[1]) ** 2 < 60.0**2:
                    c.append(p)
                    break
            else:
                clusters.append([p])
        for c in clusters:
            rows.append(
                (
                    ka,
                    kb,
                    c[0][2],
                    c[0][3],
                    float(np.mean([p[0] for p in c])),
                    float(np.mean([p[1] for p in c])),
                    c[0][4],
                )
            )
    return pd.DataFrame(rows, columns=cols)


def snap_to_blocks(
    blocks: gpd.GeoDataFrame,
    tree: shapely.STRtree,
    easting: ArrayLike,
    northing: ArrayLike,
    max_distance_m: float,
    street_keys: Sequence[object] | None = None,
) -> np.ndarray:
    """Nearest block id for each point within ``max_distance_m`` (None when none).

    With ``street_keys`` (normalised street name per point, None/"" when unknown), a point
    snaps to the nearest block carrying that street name within the distance, and never to a
    differently-named street; points with no key snap to the nearest block of any name."""
    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    out = np.full(len(e), None, dtype=object)
    if len(e) == 0 or len(blocks) == 0:
        return out
    ok = np.isfinite(e) & np.isfinite(n)
    pts = shapely.points(e, n)
    ids = blocks["block_id"].to_numpy()
    if street_keys is None:
        keys = np.full(len(e), "", dtype=object)
    else:
        keys = np.array(
            [
                ""
                if (k is None or k is pd.NA or (isinstance(k, float) and np.isnan(k)))
                else str(k)
                for k in street_keys
            ],
            dtype=object,
        )
    plain = np.flatnonzero(ok & (keys == ""))
    if len(plain):
        pi, bi = tree.query_nearest(pts[plain], max_distance=max_distance_m, all_matches=False)
        out[plain[pi]] = ids[bi]
    keyed = np.flatnonzero(ok & (keys != ""))
    if len(keyed):
        names = blocks["names_key"].to_numpy()
        pi, bi = tree.query(pts[keyed], predicate="dwithin", distance=max_distance_m)
        if len(pi):
            d = shapely.distance(pts[keyed][pi], blocks.geometry.values[bi])
            match = np.array(
                [keys[keyed[p]] in names[b].split("|") for p, b in zip(pi, bi, strict=True)],
                dtype=bool,
            )
            cand = pd.DataFrame({"p": pi[match], "b": bi[match], "d": d[match]})
            best = cand.sort_values(["p", "d", "b"]).drop_duplicates("p")
            out[keyed[best["p"].to_numpy()]] = ids[best["b"].to_numpy()]
    return out


def lsoa_of(
    lsoas: gpd.GeoDataFrame, tree: shapely.STRtree, easting: ArrayLike, northing: ArrayLike
) -> np.ndarray:
    """LSOA code containing each point (None outside every LSOA)."""
    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    out = np.full(len(e), None, dtype=object)
    if len(e) == 0 or len(lsoas) == 0:
        return out
    ok = np.flatnonzero(np.isfinite(e) & np.isfinite(n))
    pi, li = tree.query(shapely.points(e[ok], n[ok]), predicate="intersects")
    codes = lsoas["lsoa_code"].to_numpy()
    out[ok[pi]] = codes[li]
    return out
