"""Ingest throughput: a generated 100,000-row ISTV MDS extract into SQLite and PostgreSQL.

Prints rows/s for the whole ingest (read, PII guard, parse, validate, store in one transaction),
without geocoding. Target: >= 20,000 rows/s on SQLite on one core.

    .venv/bin/python benchmarks/ingest.py [--rows 100000] [--pg URL] [--no-pg]

Many small files (issue 16: a ~100-row monthly extract paid ~0.14 s of fixed cost per file):

    .venv/bin/python benchmarks/ingest.py --files 60 --file-rows 100 [--old DIR] [--no-pg]

ingests ``--files`` department-months of ``--file-rows`` rows each, one after another into one
store (as the scale run does), and prints rows/s and seconds per file. ``--old DIR`` first runs
the same files with a checkout of older code (its ``src`` on the path, in a child process), so
the ratio comes from one run. ``--batch`` also runs them through the batch path
(``istvhub.ingest.batch.ingest_paths``: the files of one layout adapted in one pass).
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


SMALL_CHILD = r"""
import json, sys, time
from pathlib import Path
from istvhub.ingest.core import ingest_file
from istvhub.store import open_store
files = sorted(Path(sys.argv[1]).glob("*.csv"))
st = open_store(sys.argv[2])
ingest_file(files[0], st, geocode=False)  # warm: imports, code lists, schema checks
t0 = time.perf_counter()
rows = 0
for f in files[1:]:
    res = ingest_file(f, st, geocode=False)
    assert res.status == "stored", res.message
    rows += res.rows_total
dt = time.perf_counter() - t0
st.dispose()
print(json.dumps({"files": len(files) - 1, "rows": rows, "s": dt}))
"""


BATCH_CHILD = r"""
import json, sys, time
from pathlib import Path
from istvhub.ingest.batch import ingest_paths
from istvhub.ingest.core import ingest_file
from istvhub.store import open_store
files = sorted(Path(sys.argv[1]).glob("*.csv"))
st = open_store(sys.argv[2])
ingest_file(files[0], st, geocode=False)  # warm: imports, code lists, schema checks
t0 = time.perf_counter()
res = ingest_paths(files[1:], st, geocode=False)
dt = time.perf_counter() - t0
assert all(r.status == "stored" for r in res), [r.message for r in res if r.status != "stored"]
st.dispose()
print(json.dumps({"files": len(res), "rows": sum(r.rows_total for r in res), "s": dt}))
"""


def small_files(a: argparse.Namespace, tmpd: Path) -> None:
    """Many small department-months through one store, old code first when given."""
    import json
    import os
    import subprocess
    import sys

    d = tmpd / "small"
    d.mkdir()
    for i in range(a.files):
        month = f"{2015 + i // 12}-{i % 12 + 1:02d}"
        make_extract(d / f"RJ122_{month}.csv", a.file_rows, seed=i + 1, month=month)
    runs = [("old", str(Path(a.old) / "src"), SMALL_CHILD)] if a.old else []
    runs.append(("new", None, SMALL_CHILD))
    if a.batch:
        runs.append(("batch", None, BATCH_CHILD))
    backends = ["sqlite"] + ([] if a.no_pg else ["postgresql"])
    for backend in backends:
        for label, src, child in runs:
            env = dict(os.environ)
            if src:
                env["PYTHONPATH"] = src
            schema = None
            if backend == "sqlite":
                url = f"sqlite:///{tmpd / (label + '.db')}"
            else:
                schema, url = _pg_schema(a.pg)
            try:
                out = subprocess.run(
                    [sys.executable, "-c", child, str(d), url],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                )
            finally:
                if schema:
                    _drop_schema(a.pg, schema)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{label:<5} {backend:<10}  {r['files']} files x {a.file_rows} rows  "
                f"{r['s'] / r['files'] * 1000:7.1f} ms/file  {r['rows'] / r['s']:>8,.0f} rows/s"
            )


def _pg_schema(base: str) -> tuple[str, str]:
    """A fresh schema on ``base`` and a URL whose search_path is it."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    eng = sa.create_engine(base)
    with eng.begin() as c:
        c.execute(sa.text(f'create schema "{schema}"'))
    eng.dispose()
    return schema, f"{base}?options=-csearch_path%3D{schema}"


def _drop_schema(base: str, schema: str) -> None:
    eng = sa.create_engine(base)
    with eng.begin() as c:
        c.execute(sa.text(f'drop schema "{schema}" cascade'))
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--pg", default=PG)
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--files", type=int, default=0, help="many small files instead of one")
    ap.add_argument("--file-rows", type=int, default=100)
    ap.add_argument("--old", help="a checkout of older code to run first (--files mode)")
    ap.add_argument("--batch", action="store_true", help="--files: also the batch path")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        if a.files:
            small_files(a, tmpd)
            return
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
