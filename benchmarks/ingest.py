"""Ingest throughput: a generated 100,000-row ISTV MDS extract into SQLite and PostgreSQL.

Prints rows/s for the whole ingest (read, PII guard, parse, validate, store in one transaction),
without geocoding. Target: >= 20,000 rows/s on SQLite on one core.

    .venv/bin/python benchmarks/ingest.py [--rows 100000] [--pg URL] [--no-pg]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from istvhub.ingest.core import ingest_file
from istvhub.store import open_store

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEXTS = ("o/s maccys brixton rd", "Black Lion pub on Commercial Road", "home", "n/k",
         "jct acre ln / brixton hill", "nr clapham jct stn", "pt's flat", "London Eye, SE1",
         "sainsbury on wandsworth road sw8", "outside tesco harlesden")


def make_extract(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-03-01")
    arrival = start + pd.to_timedelta(rng.integers(0, 31 * 86400 - 1, rows), unit="s")
    lag = pd.to_timedelta(rng.integers(0, 6 * 3600, rows), unit="s")
    incident = arrival - lag
    df = pd.DataFrame({
        "Site_Code_of_Treatment": "RJ122",
        "Reporting_Period_Start_Date": "2025-03-01",
        "Reporting_Period_End_Date": "2025-03-31",
        "Attendance_Identifier": [f"A{i:08d}" for i in range(rows)],
        "Arrival_Date": arrival.strftime("%Y-%m-%d"),
        "Arrival_Time": arrival.strftime("%H:%M"),
        "Assault_Date": incident.strftime("%Y-%m-%d"),
        "Assault_Time": incident.strftime("%H:%M"),
        "Assault_Method_Code": rng.choice(["01", "02", "03", "04", "05", "06", "99"], rows),
        "Assault_Method_Other_Description": "",
        "Assault_Location_Type_Code": rng.choice(["01", "02", "03", "04", "07", "99"], rows),
        "Assault_Location_Description": rng.choice(TEXTS, rows),
        "Age_Band": rng.choice(["16-17", "18-24", "25-34", "35-44", "65+"], rows),
        "Sex": rng.choice(["1", "2", "9"], rows),
    })
    # the extract starts in March; keep every arrival inside the month
    df = df[df["Arrival_Date"].str.startswith("2025-03")]
    df.to_csv(path, index=False)


def run(url: str, path: Path, label: str) -> float:
    st = open_store(url)
    t0, c0 = time.perf_counter(), time.process_time()
    res = ingest_file(path, st, geocode=False)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    st.dispose()
    assert res.status == "stored", res.message
    rate = res.rows_total / dt
    print(f"{label:<10} rows {res.rows_total:>7}  accepted {res.rows_accepted:>7}  "
          f"wall {dt:6.2f} s  {rate:>9,.0f} rows/s   cpu (this process) {cpu:6.2f} s  "
          f"{res.rows_total / cpu:>9,.0f} rows/cpu-s")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--pg", default=PG)
    ap.add_argument("--no-pg", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        path = tmpd / "RJ122_2025-03.csv"
        make_extract(path, a.rows)
        print(f"extract: {path.stat().st_size / 1e6:.1f} MB")
        run(f"sqlite:///{tmpd / 'bench.db'}", path, "sqlite")
        if not a.no_pg:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            eng = sa.create_engine(a.pg)
            with eng.begin() as c:
                c.execute(sa.text(f'create schema "{schema}"'))
            try:
                run(f"{a.pg}?options=-csearch_path%3D{schema}", path, "postgresql")
            finally:
                with eng.begin() as c:
                    c.execute(sa.text(f'drop schema "{schema}" cascade'))
                eng.dispose()


if __name__ == "__main__":
    main()
