"""How often the PII scrubber (istvhub.pii) removes something from a text that holds no identifier.

Two corpora with no personal data in them: every name in the gazetteer (streets, venues,
stations, areas, postcodes, junctions) and the geocoder's dev texts (sample_feeds/geocode_dev.csv,
receptionist-style locations). A removal there is a false removal: it costs geocoding.

    .venv/bin/python benchmarks/pii_false_removals.py [--home DIR] [--show 20]

``--home`` is an ISTVHUB_HOME with a built gazetteer (default: the test cache or ISTVHUB_HOME).
Prints the rate per corpus and per kind, and the first few examples to inspect.
"""

from __future__ import annotations

import argparse
import collections
import os
import time
from pathlib import Path

import pandas as pd

from istvhub.pii import scrub_series

REPO = Path(__file__).resolve().parents[1]


def _gazetteer_names(home: Path) -> pd.Series:
    gz = home / "gazetteer"
    version = (gz / "CURRENT").read_text().strip()
    e = pd.read_parquet(gz / version / "entries.parquet", columns=["name"])
    return e["name"].dropna().drop_duplicates().reset_index(drop=True)


def _default_home() -> Path | None:
    if os.environ.get("ISTVHUB_HOME"):
        return Path(os.environ["ISTVHUB_HOME"])
    cands = sorted((REPO / "tests" / ".cache").glob("gazetteer-*/gazetteer/CURRENT"))
    return cands[-1].parents[1] if cands else None


def measure(name: str, texts: pd.Series, show: int) -> None:
    t0 = time.perf_counter()
    out, n, kinds = scrub_series(texts)
    dt = time.perf_counter() - t0
    hit = kinds.notna()
    by_kind = collections.Counter(k for ks in kinds[hit] for k in str(ks).split(", "))
    print(
        f"{name}: {int(hit.sum())} of {len(texts)} texts changed "
        f"({100 * hit.mean():.3f} %), {n} removals, {dt:.2f} s"
    )
    for k, c in by_kind.most_common():
        print(f"  {k}: {c}")
    for before, after in list(zip(texts[hit], out[hit], strict=True))[:show]:
        print(f"    {before!r} -> {after!r}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--show", type=int, default=15)
    a = ap.parse_args()
    home = a.home or _default_home()
    if home is not None and (home / "gazetteer" / "CURRENT").is_file():
        measure("gazetteer names", _gazetteer_names(home), a.show)
    else:
        print("no gazetteer found (build one or pass --home); skipping gazetteer names")
    dev = pd.read_csv(REPO / "sample_feeds" / "geocode_dev.csv", dtype=str)["text"].dropna()
    measure("geocoder dev texts", dev.reset_index(drop=True), a.show)


if __name__ == "__main__":
    main()
