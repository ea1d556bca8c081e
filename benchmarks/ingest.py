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

import sqlalchemy as sa

from istvhub.ingest.core import ingest_file
from istvhub.ingest.synthetic import make_extract
from istvhub.store import open_store

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def run(url: str, path: Path, label: str) -> float:
    st = open_store(url)
    t0, c0 = time.perf_counter(), time.process_time()
    res = ingest_file(path, st, geocode=False)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    st.dispose()
    assert res.status == "stored", res.message
    rate = res.rows_total / dt
    print(
        f"{label:<10} rows {res.rows_total:>7}  accepted {res.rows_accepted:>7}  "
        f"wall {dt:6.2f} s  {rate:>9,.0f} rows/s   cpu (this process) {cpu:6.2f} s  "
        f"{res.rows_total / cpu:>9,.0f} rows/cpu-s"
    )
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
