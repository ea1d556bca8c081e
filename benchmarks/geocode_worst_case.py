"""Worst-case time per record of the geocoder (issue 8.6): hostile and pathological texts, each
geocoded alone (cache cleared), so a slow path in matching shows up as one record's time.

Prints, per family of texts, the median and the maximum milliseconds per record, and the single
slowest text family overall. Not asserted anywhere: tests check behaviour, this prints speed.

    .venv/bin/python benchmarks/geocode_worst_case.py [--home ISTVHUB_HOME] [--per-family 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from geocode_eval import load_geocoder  # noqa: E402

WORDS = (
    "high",
    "street",
    "road",
    "o/s",
    "j/w",
    "nr",
    "the",
    "station",
    "park",
    "lane",
    "kings",
    "church",
    "st",
    "opp",
    "junction",
    "of",
    "and",
    "outside",
    "ave",
    "green",
)


def families(rnd: random.Random, n: int) -> dict[str, list[str]]:
    def many(k: int) -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(k))

    return {
        "255 chars of place words": [many(50)[:255] for _ in range(n)],
        "repeated connectors (j/w j/w ...)": [
            " j/w ".join(rnd.choice(WORDS) for _ in range(40)) for _ in range(n)
        ],
        "near-miss typos of long names": [
            "".join(c if rnd.random() > 0.15 else rnd.choice("aeiouxyz") for c in many(12))
            for _ in range(n)
        ],
        "postcode-like junk": [
            " ".join(
                f"{rnd.choice('NSEW')}{rnd.randint(1, 99)} "
                f"{rnd.randint(0, 9)}{rnd.choice('ABDXYZ')}"
                f"{rnd.choice('ABDXYZ')}"
                for _ in range(12)
            )
            for _ in range(n)
        ],
        "random unicode": [
            "".join(chr(rnd.randint(32, 0x2FFF)) for _ in range(200)) for _ in range(n)
        ],
        "no spaces": [
            "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(255)) for _ in range(n)
        ],
        "digits and punctuation": [
            "".join(rnd.choice("0123456789/-,.&() ") for _ in range(200)) for _ in range(n)
        ],
        "formula payloads": [
            rnd.choice(('=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"))
            + " "
            + many(5)
            for _ in range(n)
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--per-family", type=int, default=40)
    args = ap.parse_args()
    t0 = time.perf_counter()
    geo = load_geocoder(args.home)
    print(f"gazetteer {geo.version} loaded in {time.perf_counter() - t0:.1f} s")
    geo.geocode("o/s Brixton station", "RJ122")  # warm up lazy structures
    rnd = random.Random(8)
    worst = ("", 0.0)
    print(f"{'family':36s} {'n':>4s} {'median ms':>10s} {'max ms':>9s}")
    for fam, texts in families(rnd, args.per_family).items():
        times = []
        for t in texts:
            geo._cache.clear()  # each record pays its own matching
            s = time.perf_counter()
            geo.geocode(t, "RJ122")
            times.append((time.perf_counter() - s) * 1000)
        mx = max(times)
        if mx > worst[1]:
            worst = (fam, mx)
        print(f"{fam:36s} {len(times):>4d} {statistics.median(times):>10.1f} {mx:>9.1f}")
    print(f"slowest single record: {worst[1]:.1f} ms ({worst[0]})")


if __name__ == "__main__":
    main()
