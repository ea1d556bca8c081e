"""Equality, feedback and retention on a London-sized store (prints figures; no assertions).

Fills a store with every registry department x N months of synthetic records (codes drawn at
random, fixed phrases for free text: nothing personal), then times: the 4-way London equality
cube (SQL counts, primary + secondary suppression, CSV and HTML), a borough 2-way table, one
department's feedback sheet, retention dry run and apply (deleting the oldest months), and the
compliance read afterwards. Run: ``.venv/bin/python benchmarks/analyst_b.py [--db URL]
[--months 36] [--per-month 150]`` (default: a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub.core.periods import month_add, month_range
from istvhub.records import AGE_BANDS, LOCATION_TYPES, SEXES, WEAPONS, make_record_id
from istvhub.store import open_store

PHRASES = np.array(["o/s tesco high st", "home", "u/k", "", "jct a / b", "nr stn", "black lion"])
STATUS = np.array(["located", "located", "located", "home", "unknown", "unmatched", "ambiguous"])
BOROUGHS = np.array(
    ["Westminster", "Camden", "Lambeth", "Southwark", "Hackney", None], dtype=object
)


def fill(store, months: int, per_month: int, end: str) -> int:
    deps = store.departments()["ods_code"].tolist()
    rng = np.random.default_rng(7)
    n_total = 0
    for dep in deps:
        for p in month_range(month_add(end, -(months - 1)), end):
            n = int(rng.poisson(per_month))
            y, m = int(p[:4]), int(p[5:])

            def pick(a, n=n):
                """Skewed like real extracts: the first codes common, the last ones rare."""
                w = 1.0 / np.arange(1, len(a) + 1) ** 1.5
                return np.asarray(a, dtype=object)[rng.choice(len(a), n, p=w / w.sum())]

            st = pick(STATUS)
            df = pd.DataFrame(
                {
                    "record_id": [make_record_id(dep, f"{p}-{i}") for i in range(n)],
                    "department": dep,
                    "period": p,
                    "source_row": np.arange(1, n + 1),
                    "arrival_at": datetime(y, m, 15, 12),
                    "incident_date": None,
                    "incident_time": None,
                    "location_text": pick(PHRASES),
                    "location_type": pick(LOCATION_TYPES),
                    "weapon": pick(WEAPONS),
                    "weapon_text": None,
                    "age_band": pick(AGE_BANDS),
                    "sex": pick(SEXES),
                    "geo_status": st,
                    "match_type": np.where(st == "located", "street", None),
                    "borough": np.where(st == "located", pick(BOROUGHS), None),
                }
            )
            store.store_submission(
                department=dep,
                period=p,
                file_sha256=f"{dep}{p}".ljust(64, "0"),
                source_filename=f"{dep}_{p}.csv",
                adapter="bench",
                records=df,
            )
            n_total += n
    return n_total


def timed(label: str, fn, results: list):
    t0 = time.perf_counter()
    out = fn()
    results.append((label, time.perf_counter() - t0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--per-month", type=int, default=150)
    a = ap.parse_args()
    from istvhub.equality.render import render as render_eq
    from istvhub.equality.service import build_table
    from istvhub.feedback.render import render as render_fb
    from istvhub.feedback.service import build_sheet
    from istvhub.retention.core import apply_retention

    tmp = tempfile.mkdtemp()
    url = a.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
    store = open_store(url)
    end = "2026-10"
    t0 = time.perf_counter()
    n = fill(store, a.months, a.per_month, end)
    print(
        f"store: {url.split('?')[0].split('://')[0]}, {n:,} records, "
        f"{len(store.departments())} departments x {a.months} months "
        f"(filled in {time.perf_counter() - t0:.1f} s)"
    )
    res: list = []
    start = month_add(end, -11)
    t = timed(
        "equality London 4-way, 12 months (read + suppress)",
        lambda: build_table(store.engine, start=start, end=end),
        res,
    )
    hidden = int(t.frame["suppressed"].sum())
    timed("  render CSV", lambda: render_eq(t, "csv"), res)
    timed("  render HTML", lambda: render_eq(t, "html"), res)
    timed(
        "equality borough 2-way (age_band,sex)",
        lambda: build_table(
            store.engine, start=start, end=end, by="age_band,sex", boroughs=("Westminster",)
        ),
        res,
    )
    sheet = timed(
        "feedback one department-month", lambda: build_sheet(store.engine, "RJ122", end), res
    )
    timed("  render HTML", lambda: render_fb(sheet, "html"), res)
    today = datetime(2026, 11, 5, tzinfo=UTC)
    plan = timed(
        "retention dry run (24 months)",
        lambda: apply_retention(store, 24, dry_run=True, today=today),
        res,
    )
    timed("retention apply (24 months)", lambda: apply_retention(store, 24, today=today), res)
    from istvhub.compliance.read import read_inputs

    timed("compliance read after retention", lambda: read_inputs(store.engine), res)
    store.dispose()
    print(
        f"4-way cube: {len(t.frame):,} entries, {hidden:,} hidden; retention deleted "
        f"{plan.records:,} records of {plan.submissions} submissions"
    )
    print("| step | time |\n|---|---|")
    for label, s in res:
        print(f"| {label} | {s:.3f} s |")


if __name__ == "__main__":
    main()
