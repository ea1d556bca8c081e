"""Network-only results a layer build used to recompute on every request (issue 16): which
blocks a borough filter covers, block midpoints' H3 cells, the block and LSOA look-ups, the LSOA
tree. They depend on the gazetteer alone, so they are kept in the :class:`BlockIndex`'s ``memo``,
which lives exactly as long as its gazetteer version (``api.layers_cache.network_for``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.hotblocks.blockindex import BlockIndex
from istvhub.hotblocks.cells import _TO_WGS84, cells_to_str, h3_cells

T = TypeVar("T")


def memo(
    index: BlockIndex, key: tuple[Any, ...], refs: tuple[Any, ...], make: Callable[[], T]
) -> T:
    """``make()`` once per index and ``key``; ``refs`` are the other objects the value is made
    from (frames passed beside the index): a hit must have been made from the same ones."""
    full = (*key, *(id(r) for r in refs))
    hit = index.memo.get(full)
    if hit is not None and all(a is b for a, b in zip(hit[1], refs, strict=True)):
        return hit[0]  # type: ignore[no-any-return]
    value = make()
    index.memo[full] = (value, refs)  # holding refs keeps their ids from being reused
    return value


def _bng(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(27700) if frame.crs and frame.crs.to_epsg() != 27700 else frame


def blocks_in_scope(index: BlockIndex, boroughs: tuple[str, ...]) -> tuple[np.ndarray, pd.Index]:
    """(mask over the index's blocks, their ids) of the blocks a borough filter covers (every
    block without one, or when the network has no boroughs)."""

    def make() -> tuple[np.ndarray, pd.Index]:
        bl = index.blocks
        mask = np.ones(len(bl), dtype=bool)
        if boroughs and "borough" in bl.columns:
            want = [b.lower() for b in boroughs]
            low = bl["borough"].astype("string").str.lower()
            mask = low.isin(want).fillna(False).to_numpy(dtype=bool)
        return mask, pd.Index(index.block_ids[mask])

    return memo(index, ("in_scope", tuple(sorted(b.lower() for b in boroughs))), (), make)


def block_mid_hex(index: BlockIndex, res: int) -> np.ndarray:
    """The H3 cell (hex string, None if none) of each block's midpoint at ``res``."""

    def make() -> np.ndarray:
        mids = shapely.line_interpolate_point(index.geoms, 0.5, normalized=True)
        if not len(mids):
            return np.array([], dtype=object)
        lon, lat = _TO_WGS84.transform(shapely.get_x(mids), shapely.get_y(mids))
        cat = cells_to_str(h3_cells(np.asarray(lat), np.asarray(lon), res))
        out: np.ndarray = np.asarray(pd.Series(cat).astype(object).where(pd.notna(cat), None))
        return out

    return memo(index, ("mid_hex", res), (), make)


def block_positions(index: BlockIndex, ids: pd.Index) -> np.ndarray:
    """Positions in the index's blocks of the block ids ``ids`` (all must exist)."""
    look = memo(index, ("block_pos",), (), lambda: pd.Index(index.block_ids))
    pos: np.ndarray = look.get_indexer(ids)
    if (pos < 0).any():
        raise KeyError("a block id is not in the network")
    return pos


def lsoa_lookup(index: BlockIndex, lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The LSOAs in EPSG:27700, one row per code, indexed by code (the LSOA layer's look-up)."""

    def make() -> gpd.GeoDataFrame:
        lg = _bng(lsoas)
        return lg.drop_duplicates("lsoa_code").set_index(
            lg["lsoa_code"].astype(str).drop_duplicates().to_numpy()
        )

    return memo(index, ("lsoa_lookup",), (lsoas,), make)


def lsoa_tree(index: BlockIndex, lsoas: gpd.GeoDataFrame) -> tuple[np.ndarray, shapely.STRtree]:
    """(LSOA codes, STRtree of the polygons in EPSG:27700) for point-in-LSOA look-ups."""

    def make() -> tuple[np.ndarray, shapely.STRtree]:
        poly = _bng(lsoas)
        tree = shapely.STRtree(np.asarray(poly.geometry.values, dtype=object))
        return poly["lsoa_code"].astype("string").to_numpy(), tree

    return memo(index, ("lsoa_tree",), (lsoas,), make)


def warm(index: BlockIndex, lsoas: gpd.GeoDataFrame | None) -> None:
    """Compute the network-only parts of a build before the first request (a served worker
    calls this once per gazetteer version, beside building the index)."""
    from istvhub.hotblocks.assign import HEX_RESOLUTIONS

    for res in HEX_RESOLUTIONS:
        block_mid_hex(index, res)
    block_positions(index, pd.Index([], dtype=object))
    index.covered(np.array([0.0]), np.array([0.0]))
    _ = index.ends
    if lsoas is not None and len(lsoas):
        lsoa_lookup(index, lsoas)
        lsoa_tree(index, lsoas)
