"""Issue 13's figures on the demo data: blocks per borough, the share of located records on a
block by borough and by match type, the boroughs the network misses, and the build time.

Run: ``.venv/bin/python benchmarks/ground.py [--home DIR] [--sources DIR] [--json]``.
Without ``--home`` it builds the gazetteer and runs ``istvhub demo`` (ingest, geocode, hot
blocks) in a temporary home (several minutes); with ``--home`` it reads that home's gazetteer
and demo store as they are (its build time is the one the manifest recorded). No assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_demo(home: Path, sources: Path | None) -> float:
    """Build the gazetteer (timed, the CLI's own build) and run the demo into ``home``."""
    env = os.environ | {"ISTVHUB_HOME": str(home)}
    if sources:
        env["ISTVHUB_SOURCES"] = str(sources)
    exe = str(Path(sys.executable).with_name("istvhub"))
    t0 = time.perf_counter()
    subprocess.run([exe, "gazetteer", "build"], env=env, check=True, capture_output=True)
    build_s = time.perf_counter() - t0
    subprocess.run([exe, "demo"], env=env, check=True, capture_output=True)
    return build_s


def figures(home: Path) -> dict:
    os.environ["ISTVHUB_HOME"] = str(home)
    from istvhub.core.config import get_settings

    get_settings.cache_clear()
    from istvhub.gazetteer import load
    from istvhub.gazetteer.stats import on_block_from_store, stats

    gaz = load(home)
    s = stats(gaz, on_block_from_store(gaz))
    s["build_seconds"] = gaz.manifest.get("build_seconds")
    s["seam_junctions"] = gaz.manifest.get("seam_junctions")
    return s


def show(s: dict, build_s: float | None) -> None:
    cov = s["network_coverage"]
    wb = cov["boroughs_with_blocks"]
    print(
        f"gazetteer {s['version']}: {s['blocks']:,} blocks in {len(wb)} boroughs, "
        f"{s['parks']:,} parks, seam junctions {s.get('seam_junctions')}"
    )
    if build_s is not None:
        print(f"build (istvhub gazetteer build, wall): {build_s:.1f} s")
    print(f"build (manifest build_seconds): {s['build_seconds']} s")
    print("\nblocks per borough (km, share of postcodes near a block):")
    for b, d in sorted(wb.items()):
        print(f"  {b:<24} {d['blocks']:>6,} {d['km']:>7.1f} km  {d['postcodes_near_network']:.0%}")
    print("\n" + s["network_statement"])
    ob = s.get("on_block")
    if not ob:
        print("\n(no demo store: no on-block figures)")
        return
    for label in ("boroughs_with_network", "boroughs_fully_covered"):
        d = ob[label]
        print(f"\non a block, {label}: {d['on_block']:,}/{d['located']:,} = {d['share']:.1%}")
    for by in ("borough", "match_type"):
        print(f"\non a block by {by}:")
        for g, d in sorted(ob[f"by_{by}"].items(), key=lambda kv: -kv[1]["located"]):
            sh = "-" if d["share"] is None else f"{d['share']:.1%}"
            print(f"  {g:<24} {d['on_block']:>6,}/{d['located']:<6,} {sh}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, help="an ISTVHUB_HOME with a gazetteer and demo store")
    ap.add_argument("--sources", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    build_s = None
    if args.home:
        s = figures(args.home)
    else:
        with tempfile.TemporaryDirectory(prefix="ground-bench-") as tmp:
            build_s = run_demo(Path(tmp), args.sources)
            s = figures(Path(tmp))
    if args.json:
        print(json.dumps(s | {"build_wall_seconds": build_s}, indent=1, default=str))
    else:
        show(s, build_s)


if __name__ == "__main__":
    main()
