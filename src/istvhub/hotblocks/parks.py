"""Parks and commons in the hot-block assignment (issue 13): a record the geocoder placed in
a park ("clapham common", "in hyde park") has the park's polygon as its precision, not a
point, so it lands on the street at the park's edge nearest its point rather than nowhere
("imprecise") or on whatever street happens to pass its interior point."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from istvhub.gazetteer.normalise import normalise_name

#: Blocks within this of a park's polygon are its edge (m): the carriageway beside the
#: railings, not the next street over.
PARK_EDGE_M = 30.0


class ParkEdges:
    """Park polygons with their names, and (lazily, per park) the blocks along each edge."""

    def __init__(
        self, parks: gpd.GeoDataFrame | None, block_geoms: np.ndarray, block_tree: shapely.STRtree
    ) -> None:
        if parks is None or len(parks) == 0:
            self.n = 0
            return
        if parks.crs is not None and parks.crs.to_epsg() != 27700:
            parks = parks.to_crs(27700)
        self.n = len(parks)
        self.geoms = np.asarray(parks.geometry.values, dtype=object)
        self.keys = np.array([normalise_name(str(n)) for n in parks["name"]], dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        self._blocks = block_geoms
        self._block_tree = block_tree
        self._edges: dict[int, np.ndarray] = {}

    def edge_of(self, park: int) -> np.ndarray:
        """Block positions within PARK_EDGE_M of the park's polygon."""
        hit = self._edges.get(park)
        if hit is None:
            hit = self._block_tree.query(
                self.geoms[park], predicate="dwithin", distance=PARK_EDGE_M
            ).astype(np.int64)
            self._edges[park] = hit
        return hit

    def edge_blocks(
        self, pts: np.ndarray, names: Sequence[object]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions into ``pts``, block positions): for each point inside a park whose name
        is the record's matched name, the nearest block of that park's edge."""
        pi, ki = self.tree.query(pts, predicate="within")
        rec: list[int] = []
        blk: list[int] = []
        want = [normalise_name(str(n)) if isinstance(n, str) else "" for n in names]
        for p, k in zip(pi.tolist(), ki.tolist(), strict=True):
            if not want[p] or want[p] != self.keys[k] or (rec and rec[-1] == p):
                continue
            edge = self.edge_of(k)
            if not len(edge):
                continue
            d = shapely.distance(pts[p], self._blocks[edge])
            rec.append(p)
            blk.append(int(edge[int(np.argmin(d))]))
        return np.asarray(rec, dtype=np.int64), np.asarray(blk, dtype=np.int64)
