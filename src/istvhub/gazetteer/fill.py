"""Gap-filling line sources: a London-wide but generalised source (OpenMapTiles roads, 2018)
joins the detailed OSM clips as one network without doubling the streets they already hold.

* Every line source is clipped to the London boundary plus :data:`CLIP_MARGIN_M` (the same
  200 m within which a point just outside is given its nearest borough), so the network holds
  no Surrey or Hertfordshire streets, yet boundary roads stay whole.
* A fill source's lines lose the stretches that run within :data:`COVER_M` of an earlier
  source's line carrying the same street name (sampled every :data:`STEP_M`); what is left
  (other streets, the parts beyond the clip) is added. Lines of the detailed sources are never
  cut; where a fill street ends at one, that line gains a vertex there (a junction), so only
  the detailed blocks a fill street joins change (:func:`join_seams`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer import network as net
from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.road_lines import read_lines

#: Lines are kept up to this far outside Greater London (m).
CLIP_MARGIN_M = 200.0
#: A fill line's stretch this close to an earlier line of the same name is that street (m):
#: OpenMapTiles' z14 generalisation moves lines by a few metres at most.
COVER_M = 8.0
#: Sampling step along fill lines (m).
STEP_M = 8.0
#: Stretches left shorter than this (slivers at the seam) are dropped (m).
MIN_STRETCH_M = 12.0
#: A fill line ending this close to a detailed line joins it there (m): the cut left by
#: COVER_M plus OpenMapTiles' displacement of a cross street's end.
SEAM_M = 15.0
#: Paths that do not make a junction of the detailed network where they end near it (they
#: would split its blocks at every footpath; paths stay blocks of their own)
NO_SEAM_HIGHWAYS = frozenset("footway path steps cycleway bridleway track".split())


def london_clip(boroughs: gpd.GeoDataFrame, margin_m: float = CLIP_MARGIN_M):
    """The 33 boroughs' union buffered by ``margin_m`` (simplified to 5 m, prepared)."""
    poly = shapely.union_all(boroughs.geometry.values).buffer(margin_m)
    poly = shapely.simplify(poly, 5.0)
    shapely.prepare(poly)
    return poly


def clip_lines(g: gpd.GeoDataFrame, clip) -> gpd.GeoDataFrame:
    """Lines cut to ``clip`` (lines wholly inside are left as they are)."""
    if g.empty or clip is None:
        return g
    geoms = g.geometry.values
    inside = shapely.contains_properly(clip, geoms)
    out = np.asarray(geoms, dtype=object).copy()
    edge = np.flatnonzero(~inside)
    if len(edge):
        out[edge] = shapely.intersection(np.asarray(geoms, dtype=object)[edge], clip)
    g = gpd.GeoDataFrame(g.drop(columns="geometry"), geometry=list(out), crs=g.crs)
    g = g[~g.geometry.is_empty].explode(index_parts=False, ignore_index=True)
    g = g[g.geometry.geom_type == "LineString"]
    return g[g.geometry.length >= net.MIN_BLOCK_M].reset_index(drop=True)


def _name_table(names: Sequence[Sequence[str]]) -> pd.DataFrame:
    """Long table (line, key) of normalised names."""
    li, keys = [], []
    for i, ns in enumerate(names):
        for k in {normalise_name(n) for n in ns} - {""}:
            li.append(i)
            keys.append(k)
    return pd.DataFrame({"line": np.asarray(li, dtype=np.int64), "key": keys})


def uncovered_stretches(
    fill: gpd.GeoDataFrame, earlier: gpd.GeoDataFrame, within_m: float = COVER_M
) -> gpd.GeoDataFrame:
    """``fill`` without the stretches an earlier line of the same name already covers."""
    if fill.empty or earlier.empty:
        return fill
    eg = np.asarray(earlier.geometry.values, dtype=object)
    fg = np.asarray(fill.geometry.values, dtype=object)
    tree = shapely.STRtree(eg)
    near_f, _ = tree.query(fg, predicate="dwithin", distance=within_m)
    cand = np.unique(near_f)
    if len(cand) == 0:
        return fill
    dense = shapely.segmentize(fg[cand], STEP_M)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    seg = np.flatnonzero(owner[:-1] == owner[1:])  # segment k runs coords[k] -> coords[k + 1]
    mid = shapely.points((coords[seg] + coords[seg + 1]) / 2)
    si, ei = tree.query(mid, predicate="dwithin", distance=within_m)
    pairs = pd.DataFrame({"seg": si, "e": ei, "f": cand[owner[seg[si]]]})
    fnames = _name_table(fill["names"].tolist())
    enames = _name_table(earlier["names"].tolist())
    hit = pairs.merge(fnames, left_on="f", right_on="line").merge(
        enames, left_on=["e", "key"], right_on=["line", "key"]
    )
    covered = np.zeros(len(seg), dtype=bool)
    covered[hit["seg"].to_numpy()] = True
    touched = np.zeros(len(cand), dtype=bool)
    touched[owner[seg[covered]]] = True
    # runs of uncovered segments of each touched line become new lines
    keep_seg = ~covered & touched[owner[seg]]
    ks = seg[keep_seg]
    new_run = np.r_[True, (ks[1:] != ks[:-1] + 1) | (owner[ks[1:]] != owner[ks[:-1]])]
    run = np.cumsum(new_run) - 1
    last = np.r_[new_run[1:], True]
    pos = np.r_[ks, ks[last] + 1]
    run_of = np.r_[run, run[last]]
    order = np.lexsort((pos, run_of))
    pieces = np.asarray(shapely.linestrings(coords[pos[order]], indices=run_of[order]))
    src = cand[owner[ks[new_run]]]
    ok = shapely.length(pieces) >= MIN_STRETCH_M
    untouched = np.setdiff1d(np.arange(len(fill)), cand[touched])
    cut = fill.iloc[src[ok]].drop(columns="geometry")
    cut = gpd.GeoDataFrame(cut, geometry=list(pieces[ok]), crs=fill.crs)
    return gpd.GeoDataFrame(pd.concat([fill.iloc[untouched], cut], ignore_index=True), crs=fill.crs)


def _dangling_ends(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line, is_start, xy) of the line ends no other line of ``geoms`` shares a vertex with."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    _, vid = np.unique(np.round(coords, 2), axis=0, return_inverse=True)
    vid = vid.ravel()
    pairs = np.unique(np.stack([vid, owner], axis=1), axis=0)
    nlines = np.bincount(pairs[:, 0], minlength=int(vid.max()) + 1 if len(vid) else 0)
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    end = (first | last) & (nlines[vid] == 1)
    k = np.flatnonzero(end)
    return owner[k], first[k], coords[k]


def join_seams(
    fill_g: gpd.GeoDataFrame, earlier: gpd.GeoDataFrame, within_m: float = SEAM_M
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Junctions where the fill meets the detailed network: a fill line's dangling end within
    ``within_m`` of an earlier line is carried on to the nearest point of that line, and that
    point becomes a vertex of the earlier line (so noding makes it a node). Only the earlier
    lines a fill street joins gain a vertex; every other detailed block keeps its id."""
    if fill_g.empty or earlier.empty:
        return fill_g, earlier
    fg = np.asarray(fill_g.geometry.values, dtype=object)
    eg = np.asarray(earlier.geometry.values, dtype=object)
    line, is_start, xy = _dangling_ends(fg)
    road = ~fill_g["highway"].isin(NO_SEAM_HIGHWAYS).to_numpy()
    line, is_start, xy = line[road[line]], is_start[road[line]], xy[road[line]]
    if not len(line):
        return fill_g, earlier
    pts = shapely.points(xy)
    pi, ei = shapely.STRtree(eg).query_nearest(pts, max_distance=within_m, all_matches=False)
    if not len(pi):
        return fill_g, earlier
    at = shapely.line_locate_point(eg[ei], pts[pi])
    target = shapely.get_coordinates(shapely.line_interpolate_point(eg[ei], at))
    fg = fg.copy()
    for li, start, p in zip(line[pi].tolist(), is_start[pi].tolist(), target, strict=True):
        c = shapely.get_coordinates(fg[li])
        c = np.vstack([p, c]) if start else np.vstack([c, p])
        fg[li] = shapely.linestrings(c)
    eg = eg.copy()
    for e in np.unique(ei).tolist():
        mine = ei == e
        c = shapely.get_coordinates(eg[e])
        seg = np.hypot(*np.diff(c, axis=0).T)
        cum = np.r_[0.0, np.cumsum(seg)]
        for s_, p in sorted(zip(at[mine].tolist(), target[mine].tolist(), strict=True)):
            if np.min(np.hypot(c[:, 0] - p[0], c[:, 1] - p[1])) < 0.01:
                continue  # already a vertex
            k = int(np.searchsorted(cum, s_))
            c = np.insert(c, k, p, axis=0)
            cum = np.insert(cum, k, s_)
        eg[e] = shapely.linestrings(c)
    out_f = gpd.GeoDataFrame(fill_g.drop(columns="geometry"), geometry=list(fg), crs=fill_g.crs)
    out_e = gpd.GeoDataFrame(earlier.drop(columns="geometry"), geometry=list(eg), crs=earlier.crs)
    out_e.attrs["seams"] = target
    return out_f, out_e


def read_network(
    primary: Sequence[Path],
    fill: Sequence[Path],
    boroughs: gpd.GeoDataFrame | None,
    log: Callable[[str], None] = lambda m: None,
) -> gpd.GeoDataFrame:
    """All line sources as one set of lines: the detailed ones (deduplicated as before), then
    each fill source's lines where no earlier line holds that street; all clipped to London."""
    clip = london_clip(boroughs) if boroughs is not None and len(boroughs) else None
    lines = net.read_all_lines(primary, log)
    lines = clip_lines(lines, clip)
    seams: list[np.ndarray] = []
    for f in fill:
        g = clip_lines(read_lines(Path(f)), clip)
        g = uncovered_stretches(g, lines)
        g, lines = join_seams(g, lines)
        seams.append(lines.attrs.get("seams", np.empty((0, 2))))
        log(f"{Path(f).name}: {len(g)} lines fill the gaps, {len(seams[-1])} seam junctions")
        lines = gpd.GeoDataFrame(pd.concat([lines, g], ignore_index=True), crs=27700)
    #: where fill lines were joined to earlier ones (the only places detailed blocks change)
    lines.attrs["seams"] = np.vstack(seams) if seams else np.empty((0, 2))
    return lines
