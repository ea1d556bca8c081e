"""Geocoder throughput on a 100,000-row extract with realistic repetition, one core, against the
naive baseline (rapidfuzz ``extractOne`` over all gazetteer names), timed on a subsample and
extrapolated (it runs at a few rows per second).

Repetition: rows are drawn with replacement from the sample feeds' ground truth (the generator's
mix of home/unknown phrases, streets, venues, junctions...), and a fifth of them get the case
and spacing variants receptionists produce, so distinct raw strings outnumber distinct places.

    .venv/bin/python benchmarks/geocode_speed.py [--home ISTVHUB_HOME] [--rows 100000]
        [--baseline-rows 40]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from geocode_eval import baseline, load_geocoder  # noqa: E402


def make_extract(n: int, seed: int = 1) -> pd.DataFrame:
    gt = pd.read_csv(REPO / "sample_feeds" / "ground_truth.csv", dtype={"text": str})
    gt["text"] = gt["text"].fillna("")
    rng = np.random.default_rng(seed)
    pick = gt.iloc[rng.integers(0, len(gt), n)].reset_index(drop=True)
    texts = pick["text"].to_numpy(dtype=object).copy()
    vary = rng.random(n) < 0.2
    for i in np.flatnonzero(vary):
        t = texts[i]
        k = rng.integers(0, 4)
        texts[i] = (
            t.upper()
            if k == 0
            else t.lower()
            if k == 1
            else f" {t}  "
            if k == 2
            else t.replace(" ", "  ", 1)
        )
    return pd.DataFrame({"location_text": texts, "department": pick["department"].to_numpy()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--baseline-rows", type=int, default=40)
    args = ap.parse_args()

    df = make_extract(args.rows)
    t0 = time.perf_counter()
    geo = load_geocoder(args.home)
    load_s = time.perf_counter() - t0
    n_raw = df["location_text"].nunique()
    t0 = time.perf_counter()
    res = geo.geocode_frame(df)
    dt = time.perf_counter() - t0
    rate = len(df) / dt
    print(f"gazetteer {geo.version}: load {load_s:.1f} s")
    print(
        f"extract: {len(df):,} rows, {n_raw:,} distinct raw texts, "
        f"{len(geo._cache):,} distinct (normalised text, department) pairs"
    )
    print(
        f"geocoder: {dt:.1f} s, {rate:,.0f} rows/s "
        f"({len(geo._cache) / dt:,.0f} distinct texts/s); "
        + ", ".join(f"{k} {v}" for k, v in res["geo_status"].value_counts().items())
    )

    sample = df.sample(args.baseline_rows, random_state=0)["location_text"].tolist()
    t0 = time.perf_counter()
    baseline(geo.index.entries, sample)
    bdt = time.perf_counter() - t0
    brate = len(sample) / bdt
    print(
        f"baseline (extractOne over {len(geo.index.entries):,} names, {len(sample)} rows): "
        f"{brate:,.2f} rows/s -> {len(df) / brate / 3600:,.1f} h for the extract"
    )
    print(f"speed-up: {rate / brate:,.0f}x")


if __name__ == "__main__":
    main()
