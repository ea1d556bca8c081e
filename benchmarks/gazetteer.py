"""Gazetteer build and load times on the real sources (prints figures; no assertions).

Run: ``.venv/bin/python benchmarks/gazetteer.py [--sources DIR] [--loads 5]``. Builds into a
temporary directory, then loads it a few times (cold entries/keys/points, then the lazily loaded
blocks and LSOAs), snaps 10,000 points to blocks and finds 10,000 LSOAs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from istvhub.core.config import default_sources
from istvhub.gazetteer import load
from istvhub.gazetteer.build import build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=Path, default=default_sources())
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument(
        "--network-scale",
        action="store_true",
        help="only time blocks + junctions on the bundled OSM lines tiled 7 x 5 "
        "(~320k lines, about a full Geofabrik London extract)",
    )
    args = ap.parse_args()
    if args.network_scale:
        network_scale(args.sources)
        return
    with tempfile.TemporaryDirectory() as tmp:
        steps: list[tuple[str, float]] = []
        t0 = time.perf_counter()

        def step(name: str) -> None:
            steps.append((name, time.perf_counter() - t0))

        build(sources=args.sources, out=Path(tmp) / "gazetteer", progress=step)
        total = time.perf_counter() - t0
        print(f"build: {total:.1f} s")
        for (name, t), (_, t_next) in zip(steps, [*steps[1:], ("end", total)], strict=True):
            print(f"  {name:<11} {t_next - t:6.1f} s")
        loads = []
        for _ in range(args.loads):
            t = time.perf_counter()
            g = load(tmp)
            loads.append(time.perf_counter() - t)
        print(
            f"load (entries, keys, street points): median {np.median(loads):.2f} s "
            f"over {args.loads} loads, first {loads[0]:.2f} s"
        )
        t = time.perf_counter()
        _ = g.blocks, g.lsoas, g.boroughs, g.blocks_tree, g.lsoas_tree
        print(f"lazy layers (blocks, LSOAs, boroughs + trees): {time.perf_counter() - t:.2f} s")
        print(
            f"entries: {len(g.entries)}; keys: {len(g.keys)}; street points: "
            f"{len(g.street_points)}; blocks: {len(g.blocks)}"
        )
        for k, v in g.entries["entry_type"].value_counts().items():
            print(f"  {k:<18} {v}")
        cov = g.manifest["network_coverage"]
        print(
            f"network: blocks in {len(cov['boroughs_with_blocks'])} boroughs: "
            + ", ".join(
                f"{b} {d['blocks']}" for b, d in sorted(cov["boroughs_with_blocks"].items())
            )
        )
        rng = np.random.default_rng(0)
        pts = g.entries[g.entries["entry_type"] == "postcode"].sample(10000, random_state=0)
        e = pts["easting"].to_numpy() + rng.normal(0, 20, len(pts))
        n = pts["northing"].to_numpy() + rng.normal(0, 20, len(pts))
        t = time.perf_counter()
        snapped = g.snap_to_blocks(e, n, 50.0)
        ts = time.perf_counter() - t
        t = time.perf_counter()
        lsoa = g.lsoa_of(e, n)
        tl = time.perf_counter() - t
        print(
            f"snap_to_blocks 10,000 points (50 m): {ts * 1000:.0f} ms, "
            f"{np.mean([x is not None for x in snapped]):.0%} snapped (network is central only)"
        )
        print(
            f"lsoa_of 10,000 points: {tl * 1000:.0f} ms, "
            f"{np.mean([x is not None for x in lsoa]):.1%} inside an LSOA"
        )


def network_scale(sources: Path) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from istvhub.gazetteer import network as net
    from istvhub.gazetteer.read_areas import read_boroughs
    from istvhub.gazetteer.sources import find_sources

    found = find_sources(sources)
    boroughs = read_boroughs(found["boroughs"])
    lines = net.read_all_lines(found["osm"])
    tiles = []
    for dx in range(-4, 3):
        for dy in range(-2, 3):
            g = lines.copy()
            g["geometry"] = shapely.transform(
                g.geometry.values, lambda c, dx=dx, dy=dy: c + [dx * 6000.0, dy * 6000.0]
            )
            tiles.append(g)
    big = gpd.GeoDataFrame(pd.concat(tiles, ignore_index=True), crs=27700)
    t = time.perf_counter()
    blocks = net.build_blocks(big, boroughs)
    tb = time.perf_counter() - t
    t = time.perf_counter()
    junctions = net.network_junctions(blocks)
    tj = time.perf_counter() - t
    print(
        f"network scale: {len(big)} lines -> {len(blocks)} blocks in {tb:.1f} s; "
        f"{len(junctions)} junctions in {tj:.1f} s"
    )


if __name__ == "__main__":
    main()
