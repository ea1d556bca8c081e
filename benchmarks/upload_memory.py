"""Peak memory of ingesting one large upload (issue 14 point 7: under 300 MB for a 50 MB file).

Each measurement runs in a fresh process so peaks do not mix: the process imports istvhub,
reads its resident memory (the baseline: interpreter, pandas, SQLAlchemy), then ingests the
file (read, PII guard, adapt, store in one transaction; no geocoding, whose memory is the
loaded gazetteer's, shared by every upload of a server) and reports its peak resident memory.
The figure that matters is peak minus baseline: what one upload adds to a running server.

    .venv/bin/python benchmarks/upload_memory.py [--mb 50] [--xlsx-rows 50000] [--old DIR]

``--old DIR`` measures a checkout of older code (its ``src`` first on the path) on the same files
in the same run, before the current code, so the two figures compare.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from istvhub.ingest.core import ingest_file
from istvhub.store import open_store
base = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
st = open_store(sys.argv[2])
t0 = time.perf_counter()
res = ingest_file(Path(sys.argv[1]), st, geocode=False)
dt = time.perf_counter() - t0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (the generator of the
# files, ~400 MB), which hid every peak below it; VmHWM is this process image's own
peak = next(int(ln.split()[1]) * 1024 for ln in open("/proc/self/status") if ln.startswith("VmHWM"))
print(json.dumps({"status": res.status, "rows": res.rows_total, "s": dt,
                  "base": base, "peak": peak, "message": res.message[:200]}))
"""


def measure(path: Path, db: str, src: str | None = None) -> dict[str, float]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), db],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(label: str, path: Path, r: dict[str, float]) -> None:
    mb = 1024 * 1024
    print(
        f"{label:<6} {path.stat().st_size / mb:6.1f} MB file  {int(r['rows']):>8} rows  "
        f"{r['status']:<8} {r['s']:6.1f} s  baseline {r['base'] / mb:5.0f} MB  "
        f"peak {r['peak'] / mb:5.0f} MB  added by the upload {(r['peak'] - r['base']) / mb:5.0f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=50.0, help="size of the CSV to generate")
    ap.add_argument("--xlsx-rows", type=int, default=50_000, help="rows of the XLSX (0: none)")
    ap.add_argument("--old", help="a checkout of older code to measure first (its src/)")
    a = ap.parse_args()
    from istvhub.ingest.synthetic import make_extract

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        csv = d / "RJ122_2025-03.csv"
        probe = make_extract(d / "probe.csv", 10_000)
        per_row = (d / "probe.csv").stat().st_size / probe
        make_extract(csv, int(a.mb * 1024 * 1024 / per_row))
        if a.old:
            old = str(Path(a.old) / "src")
            report("old", csv, measure(csv, f"sqlite:///{d / 'old.db'}", old))
        report("csv", csv, measure(csv, f"sqlite:///{d / 'csv.db'}"))
        if a.xlsx_rows:
            import pandas as pd

            xlsx = d / "RJZ01_2025-03.xlsx"
            make_extract(d / "x.csv", a.xlsx_rows, dept="RJZ01")
            pd.read_csv(d / "x.csv", dtype=str).to_excel(xlsx, index=False)
            report("xlsx", xlsx, measure(xlsx, f"sqlite:///{d / 'xlsx.db'}"))


if __name__ == "__main__":
    main()
