"""Speed of `istvhub compare` and `hotblocks --harm` on the real Westminster network.

Synthetic but realistic sizes: a year of ED records for a busy borough (synthetic_records, seeded)
and a police.uk CSV with one row per crime at snap points on real blocks (written to a temp dir,
read back through the real reader). Prints figures; no assertions.

    .venv/bin/python benchmarks/compare.py [--sources ../shared/gazetteer-sources] [--ed 50000]
        [--police 30000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from istvhub.compare.core import compare
from istvhub.compare.police import CSV_COLUMNS, read_police
from istvhub.disclosure.rules import get_rule
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.assign import _TO_WGS84, BlockIndex
from istvhub.hotblocks.harm import add_harm
from istvhub.hotblocks.sample import blocks_from_osm_edges, synthetic_records, westminster_lsoas


def police_csv(blocks, n: int, path: Path, seed: int = 3) -> None:
    """``n`` violent crimes on 2,000 snap points (block midpoints), as police.uk writes them."""
    rng = np.random.default_rng(seed)
    pts = blocks.sample(2000, random_state=seed)
    mids = shapely.line_interpolate_point(np.asarray(pts.geometry.values), 0.5, normalized=True)
    lon, lat = _TO_WGS84.transform(shapely.get_x(mids), shapely.get_y(mids))
    pick = rng.zipf(1.6, n) % len(pts)
    names = pts["name"].astype("string").fillna("Parking Area").to_numpy()
    df = pd.DataFrame(
        {
            "Crime ID": [f"{i:064x}" for i in range(n)],
            "Month": "2024-06",
            "Reported by": "Metropolitan Police Service",
            "Falls within": "Metropolitan Police Service",
            "Longitude": np.round(lon[pick], 6),
            "Latitude": np.round(lat[pick], 6),
            "Location": ["On or near " + str(s).split(" / ")[0] for s in names[pick]],
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": "Violence and sexual offences",
            "Last outcome category": "Under investigation",
            "Context": "",
        }
    )
    df[list(CSV_COLUMNS)].to_csv(path, index=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", default="../shared/gazetteer-sources")
    ap.add_argument("--ed", type=int, default=50_000)
    ap.add_argument("--police", type=int, default=30_000)
    a = ap.parse_args()
    src = Path(a.sources)
    blocks = blocks_from_osm_edges(src)
    lsoas = westminster_lsoas(src)
    index = BlockIndex(blocks)
    ed = synthetic_records(blocks, a.ed, periods=("2024-06",))
    rule = get_rule()
    f = Filters(period_from="2024-06", period_to="2024-06")
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "street.csv"
        police_csv(blocks, a.police, p)
        t0 = time.perf_counter()
        pol = read_police([p])
        t_read = time.perf_counter() - t0
    print(
        f"police CSV read: {len(pol):,} violent crimes in {t_read:.2f} s "
        f"({len(pol) / t_read:,.0f} rows/s)"
    )
    for unit in ("blocks", "hexes", "lsoas"):
        best = min(
            _timed(lambda u=unit: compare(ed, pol, index, f, rule, unit=u, lsoas=lsoas))
            for _ in range(3)
        )
        print(
            f"compare --unit {unit}: {len(ed):,} ED + {len(pol):,} police records in "
            f"{best:.2f} s (best of 3)"
        )
    plain = min(_timed(lambda: build_layers(ed, index, f, rule, lsoas=lsoas)) for _ in range(3))
    harm = min(
        _timed(
            lambda: add_harm(
                build_layers(ed, index, f, rule, lsoas=lsoas),
                ed,
                index,
                f,
                as_of="2024-06",
                lsoas=lsoas,
            )
        )
        for _ in range(3)
    )
    print(
        f"hotblocks layers: {plain:.2f} s; with --harm: {harm:.2f} s (best of 3, "
        f"{len(ed):,} records)"
    )


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
