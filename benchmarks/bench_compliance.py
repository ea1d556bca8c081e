"""How long the compliance report takes on a London-sized store (prints figures; no assertions).

Fills a store with every registry department x N months of synthetic records (no free text that
could be personal: fixed phrases), then times the read (SQL aggregates), the report and each
renderer. Run: ``.venv/bin/python benchmarks/bench_compliance.py [--db URL] [--months 24]
[--per-month 150]`` (default: a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from istvhub.compliance.deadlines import due_at
from istvhub.compliance.read import read_inputs
from istvhub.compliance.render import render
from istvhub.compliance.report import compliance_report
from istvhub.compliance.rules import load_rules
from istvhub.core.periods import month_add, month_range
from istvhub.records import make_record_id
from istvhub.store import open_store
from istvhub.store.schema import submissions

PHRASES = np.array(["o/s tesco high st", "home", "u/k", "", "jct a / b", "nr stn", "pub"])


def fill(url: str, months: int, per_month: int) -> int:
    store = open_store(url)
    deps = store.departments()["ods_code"].tolist()
    rng = np.random.default_rng(1)
    periods = month_range(month_add("2025-12", -(months - 1)), "2025-12")
    n_total = 0
    for dep in deps:
        for p in periods:
            if rng.random() < 0.04:
                continue  # a missing month now and then
            n = int(rng.poisson(per_month))
            y, m = int(p[:4]), int(p[5:])
            loc = PHRASES[rng.integers(0, len(PHRASES), n)]
            df = pd.DataFrame(
                {
                    "record_id": [make_record_id(dep, f"{p}-{i}") for i in range(n)],
                    "department": dep,
                    "period": p,
                    "source_row": np.arange(1, n + 1),
                    "arrival_at": datetime(y, m, 15, 12),
                    "incident_date": datetime(y, m, 14).date(),
                    "incident_time": None,
                    "location_text": loc,
                    "location_type": np.where(loc == "home", "home", "street"),
                    "weapon": "unknown",
                    "weapon_text": None,
                    "age_band": "unknown",
                    "sex": "unknown",
                    "geo_status": np.where(
                        loc == "home",
                        "home",
                        np.where(np.isin(loc, ["u/k", ""]), "unknown", "located"),
                    ),
                }
            )
            res = store.store_submission(
                department=dep,
                period=p,
                file_sha256=f"{hash((dep, p)) & (2**63 - 1):064d}",
                source_filename=f"{dep}_{p}.csv",
                adapter="istv_mds",
                records=df,
            )
            late = rng.random() < 0.1
            rec = due_at(p).astimezone(UTC) + timedelta(days=3 if late else -5)
            with store.engine.begin() as conn:
                conn.execute(
                    submissions.update()
                    .where(submissions.c.submission_id == res.submission_id)
                    .values(received_at=rec)
                )
            n_total += n
    store.engine.dispose()
    return n_total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--per-month", type=int, default=150)
    a = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = a.db or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    t0 = time.perf_counter()
    n = fill(url, a.months, a.per_month)
    t_fill = time.perf_counter() - t0
    eng = sa.create_engine(url)
    t0 = time.perf_counter()
    inputs = read_inputs(eng)
    t_read = time.perf_counter() - t0
    from istvhub.store.repos.stats import record_stats_query

    t0 = time.perf_counter()
    with eng.connect() as conn:
        n_old = len(conn.execute(record_stats_query()).all())
    t_old = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = compliance_report(
        inputs.departments,
        inputs.submissions,
        inputs.record_stats,
        rules=load_rules(),
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    t_report = time.perf_counter() - t0
    print(
        f"store: {url.split(':')[0]}, {len(inputs.departments)} departments x {a.months} "
        f"months, {n} records (fill {t_fill:.1f} s)"
    )
    print(f"read_inputs (submission_stats rows): {t_read * 1000:.0f} ms")
    print(
        f"  for comparison, grouping every current record (before revision 0006): "
        f"{t_old * 1000:.0f} ms, {n_old} department-months"
    )
    print(f"compliance_report ({len(rep.cells)} cells shown): {t_report * 1000:.0f} ms")
    for fmt in ("table", "csv", "json", "html"):
        t0 = time.perf_counter()
        out = render(rep, fmt)
        print(f"render {fmt}: {(time.perf_counter() - t0) * 1000:.0f} ms, {len(out)} chars")
    print(rep.summary["line"])
    eng.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
