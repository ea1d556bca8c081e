"""The street blocks with an STRtree and a name vocabulary (``BlockIndex``): built once per
gazetteer version and reused by every layer build of a worker, so anything derived only from the
network (and not from the records) belongs here or in its ``memo``."""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer.normalise import normalise_name
from istvhub.hotblocks.parks import ParkEdges

#: A record with no block at all within about this distance is ``outside_network``.
NETWORK_COVERAGE_M = 300.0

_SPLIT = re.compile(
    r"\s*(?:/|&|\+|;|\||,|\bjunction with\b|\bj/w\b|\bjw\b|\band\b)\s*", re.IGNORECASE
)


def _block_name_lists(blocks: pd.DataFrame) -> list[list[str]]:
    """Normalised street names of each block, from ``names_key`` (``|``/``;`` separated string or a
    list) or, failing that, ``name``."""
    col = "names_key" if "names_key" in blocks.columns else "name"
    out: list[list[str]] = []
    cache: dict[str, list[str]] = {}
    for v in blocks[col].tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append([])
            continue
        if isinstance(v, str):
            hit = cache.get(v)
            if hit is None:
                parts = [p for p in re.split(r"[|;]", v) if p.strip()]
                hit = (
                    [normalise_name(p) for p in parts]
                    if col == "name"
                    else [p.strip() for p in parts]
                )
                cache[v] = hit
            out.append(hit)
        else:
            out.append([normalise_name(str(p)) if col == "name" else str(p).strip() for p in v])
    return out


class BlockIndex:
    """The street blocks with an STRtree and a name vocabulary, built once and reused."""

    def __init__(self, blocks: gpd.GeoDataFrame, parks: gpd.GeoDataFrame | None = None) -> None:
        if parks is None:
            parks = blocks.attrs.get("parks")  # gazetteer.load attaches them
        if blocks.crs is not None and blocks.crs.to_epsg() != 27700:
            blocks = blocks.to_crs(27700)
        self.blocks = blocks.reset_index(drop=True)
        self.block_ids = self.blocks["block_id"].astype(str).to_numpy()
        self.geoms = np.asarray(self.blocks.geometry.values, dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        self.parks = ParkEdges(parks, self.geoms, self.tree)
        names = _block_name_lists(self.blocks)
        vocab: dict[str, int] = {}
        b_idx: list[int] = []
        n_ids: list[int] = []
        for i, lst in enumerate(names):
            for nm in lst:
                if nm:
                    b_idx.append(i)
                    n_ids.append(vocab.setdefault(nm, len(vocab)))
        self.vocab = vocab
        self.block_names = pd.DataFrame(
            {
                "block": np.asarray(b_idx, dtype=np.int64),
                "name_id": np.asarray(n_ids, dtype=np.int64),
            }
        )
        self._ends: pd.DataFrame | None = None
        #: per-index memo of network-only results (read boxes, midpoint cells, LSOA trees):
        #: the index lives as long as its gazetteer version, so these never go stale
        self.memo: dict[Any, Any] = {}
        self._grid: tuple[float, float, np.ndarray] | None = None

    def covered(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether the network has a block within about ``NETWORK_COVERAGE_M`` of each point:
        a 50 m grid of cells the blocks pass through, dilated by that distance (error < 71 m),
        so that a million look-ups cost milliseconds rather than another nearest query."""
        cell = 50.0
        if self._grid is None:
            dense = shapely.segmentize(self.geoms, cell / 2)
            xy = shapely.get_coordinates(dense)
            pad = NETWORK_COVERAGE_M + cell
            gx0, gy0 = xy[:, 0].min() - pad, xy[:, 1].min() - pad
            nx = int((xy[:, 0].max() + pad - gx0) // cell) + 1
            ny = int((xy[:, 1].max() + pad - gy0) // cell) + 1
            hit = np.zeros((ny, nx), dtype=bool)
            hit[((xy[:, 1] - gy0) // cell).astype(int), ((xy[:, 0] - gx0) // cell).astype(int)] = 1
            r = int(np.ceil(NETWORK_COVERAGE_M / cell))
            grid = np.zeros_like(hit)
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    if (dx * dx + dy * dy) * cell * cell > NETWORK_COVERAGE_M**2:
                        continue
                    src = hit[max(0, -dy) : ny - max(0, dy), max(0, -dx) : nx - max(0, dx)]
                    grid[max(0, dy) : ny - max(0, -dy), max(0, dx) : nx - max(0, -dx)] |= src
            self._grid = (gx0, gy0, grid)
        gx0, gy0, grid = self._grid
        ix = np.floor((np.asarray(x) - gx0) / cell)
        iy = np.floor((np.asarray(y) - gy0) / cell)
        ok = (ix >= 0) & (iy >= 0) & (ix < grid.shape[1]) & (iy < grid.shape[0])
        out = np.zeros(len(ix), dtype=bool)
        out[ok] = grid[iy[ok].astype(int), ix[ok].astype(int)]
        return out

    @property
    def ends(self) -> pd.DataFrame:
        """(block, key) for both end points of every block; ``key`` is the end point on a 0.5 m
        grid, so blocks meeting at a junction share a key."""
        if self._ends is None:
            coords, idx = shapely.get_coordinates(self.geoms, return_index=True)
            if len(idx):
                first = np.unique(idx, return_index=True)[1]
                last = np.r_[first[1:] - 1, len(idx) - 1]
                sel = np.r_[first, last]
                xy = np.round(coords[sel] * 2).astype(np.int64)
                self._ends = pd.DataFrame(
                    {"block": idx[sel].astype(np.int64), "key": xy[:, 0] * 10_000_000 + xy[:, 1]}
                )
            else:
                self._ends = pd.DataFrame({"block": [], "key": []}, dtype=np.int64)
        return self._ends

    def name_ids_of(self, matched: pd.Series) -> pd.DataFrame:
        """Long table (``pos``, ``name_id``) of the network street names each matched_name names.

        The whole name is tried first ("Elephant and Castle"), then its parts ("A / B")."""
        vals = matched.to_numpy(dtype=object)
        inv, uniq = pd.factorize(vals, use_na_sentinel=False)
        per_uniq: list[list[int]] = []
        for text in uniq:
            ids: list[int] = []
            if isinstance(text, str) and text:
                whole = normalise_name(text)
                if whole in self.vocab:
                    ids = [self.vocab[whole]]
                else:
                    for part in _SPLIT.split(text):
                        key = normalise_name(part)
                        if key in self.vocab and self.vocab[key] not in ids:
                            ids.append(self.vocab[key])
            per_uniq.append(ids)
        lens = np.array([len(x) for x in per_uniq], dtype=np.int64)
        flat = np.array([i for x in per_uniq for i in x], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]]) if len(lens) else np.array([], int)
        rec_lens = lens[inv] if len(vals) else np.array([], dtype=np.int64)
        pos = np.repeat(np.arange(len(vals)), rec_lens)
        if len(pos) == 0:
            return pd.DataFrame({"pos": pos, "name_id": np.array([], dtype=np.int64)})
        # offsets within each record's list
        offs = np.arange(len(pos)) - np.repeat(np.cumsum(rec_lens) - rec_lens, rec_lens)
        name_id = flat[np.repeat(starts[inv], rec_lens) + offs]
        return pd.DataFrame({"pos": pos, "name_id": name_id})
