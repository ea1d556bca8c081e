"""Hot-blocks speed: 1,000,000 synthetic located points, assignment + aggregation vs the floor.

80% of the points fall uniformly over the extent of the central (Westminster) network, 20%
uniformly over Greater London (they get H3 cells London-wide; most are too far from a block to
snap). The floor is a bare ``STRtree.query_nearest(max_distance=50)`` on the same points.
Target: assignment + aggregation <= 3x the floor and < 10 s.

    .venv/bin/python benchmarks/hotblocks.py [--n 1000000] [--sources PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from istvhub.core.config import default_sources
from istvhub.disclosure.cellkey import with_record_keys
from istvhub.disclosure.rules import get_rule
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.assign import _TO_WGS84, BlockIndex, assign
from istvhub.hotblocks.sample import blocks_from_osm_edges

LONDON_BNG = (503000.0, 155000.0, 562000.0, 201000.0)


def make_points(blocks, n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = blocks.total_bounds
    n_c = int(n * 0.8)
    x = np.concatenate(
        [rng.uniform(x0, x1, n_c), rng.uniform(LONDON_BNG[0], LONDON_BNG[2], n - n_c)]
    )
    y = np.concatenate(
        [rng.uniform(y0, y1, n_c), rng.uniform(LONDON_BNG[1], LONDON_BNG[3], n - n_c)]
    )
    lon, lat = _TO_WGS84.transform(x, y)
    arrival = pd.Timestamp("2024-03-01") + pd.to_timedelta(
        rng.integers(0, 30 * 24 * 60, n), unit="min"
    )
    return pd.DataFrame(
        {
            "record_id": [f"bench{i:08d}" for i in range(n)],
            "department": "RJ122",
            "period": "2024-03",
            "arrival_at": arrival,
            "incident_date": None,
            "incident_time": None,
            "weapon": "body_part",
            "location_type": "street",
            "geo_status": "located",
            "match_type": "postcode",
            "lat": lat,
            "lon": lon,
            "easting": x,
            "northing": y,
            "precision_m": 30.0,
            "matched_name": None,
            "lsoa_code": None,
            "borough": "Westminster",
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--sources", type=Path, default=default_sources())
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    blocks = blocks_from_osm_edges(args.sources)
    index = BlockIndex(blocks)
    recs = make_points(blocks, args.n)
    # the read edge (hotblocks.service.layer_input) turns record ids into cell-key record keys
    t0 = time.perf_counter()
    recs = with_record_keys(recs)
    t_keys = time.perf_counter() - t0
    pts = shapely.points(recs["easting"].to_numpy(), recs["northing"].to_numpy())

    def timed(fn, reps):
        """Best wall and CPU time of ``reps`` runs (the machine is shared: best-of filters
        out other users' load; CPU time is what this single-threaded code itself used)."""
        best_w = best_c = float("inf")
        out = None
        for _ in range(reps):
            w, c = time.perf_counter(), time.process_time()
            out = fn()
            best_w = min(best_w, time.perf_counter() - w)
            best_c = min(best_c, time.process_time() - c)
        return out, best_w, best_c

    geoms = np.asarray(blocks.geometry.values, dtype=object)
    (floor_i, _), floor, floor_c = timed(
        lambda: shapely.STRtree(geoms).query_nearest(pts, max_distance=50.0, all_matches=False),
        args.reps,
    )
    a, t_assign, t_assign_c = timed(lambda: assign(recs, index), args.reps)
    layers, t_full, t_full_c = timed(
        lambda: build_layers(recs, index, Filters("2024-03", "2024-03"), get_rule()), args.reps
    )

    print(f"points: {args.n:,}; blocks: {len(blocks):,}")
    print(f"record keys (HMAC-SHA256 per record id, at the read edge): {t_keys:.2f} s")
    print(
        f"floor (STRtree build + query_nearest 50 m): wall {floor:.2f} s, cpu {floor_c:.2f} s "
        f"({len(floor_i):,} snapped)"
    )
    print(
        f"assign (blocks + H3 8/9/10): wall {t_assign:.2f} s, cpu {t_assign_c:.2f} s "
        f"({(a.records['snap_status'] == 'snapped').sum():,} snapped)"
    )
    print(
        f"assign + aggregation + disclosure (build_layers): wall {t_full:.2f} s, "
        f"cpu {t_full_c:.2f} s ({len(layers.blocks):,} blocks, {len(layers.hexes):,} hexes)"
    )
    print(
        f"ratio to floor: wall {t_full / floor:.2f}x, cpu {t_full_c / floor_c:.2f}x "
        f"(target <= 3x and < 10 s)"
    )


if __name__ == "__main__":
    main()
