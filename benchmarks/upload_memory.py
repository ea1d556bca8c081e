"""Peak memory of ingesting one large upload (issue 14 point 7: under 300 MB for a 50 MB file).

Each measurement runs in a fresh process so peaks do not mix: the process imports istvhub,
reads its resident memory (the baseline: interpreter, pandas, SQLAlchemy), then ingests the
file (read, PII guard, adapt, store in one transaction; no geocoding, whose memory is the
loaded gazetteer's, shared by every upload of a server) and reports its peak resident memory.
The figure that matters is peak minus baseline: what one upload adds to a running server.

    .venv/bin/python benchmarks/upload_memory.py [--mb 50] [--xlsx-rows 50000] [--old DIR] [--api]

``--old DIR`` measures a checkout of older code (its ``src`` first on the path) on the same files
in the same run, before the current code, so the two figures compare. ``--api`` also POSTs each
file to ``/submissions`` of a uvicorn server in its own process (the file streamed from disk by
the client) and reports that server's baseline (after start-up) and peak.
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


SERVER = r"""
import os, sys
from pathlib import Path
import uvicorn
from istvhub.api import users
from istvhub.api.app import create_app
from istvhub.api.deps import open_app_store
from istvhub.core.config import Settings
home = Path(sys.argv[1])
settings = Settings(home=home, db=sys.argv[2])
store = open_app_store(settings)
token = users.add_user(store.engine, "bench-ed", "ed_analyst", departments=["RJ122"])[1]
(home / "token").write_text(token)
app = create_app(settings)
app.state.max_upload_bytes = 64 * 1024 * 1024  # the file is 50 MB, the default limit 50 MiB
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


def _status(pid: int, key: str) -> int:
    for ln in open(f"/proc/{pid}/status"):
        if ln.startswith(key):
            return int(ln.split()[1]) * 1024
    raise KeyError(key)


def measure_api(path: Path, db: str, home: Path, src: str | None = None) -> dict[str, float]:
    """One POST of the file to a fresh server process: its baseline and peak resident memory."""
    import socket
    import time

    import httpx

    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home.mkdir()
    srv = subprocess.Popen([sys.executable, "-c", SERVER, str(home), db, str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if (home / "token").exists() and httpx.get(url + "/health", timeout=2).status_code:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        time.sleep(1)
        base = _status(srv.pid, "VmRSS")
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            r = httpx.post(
                url + "/submissions",
                headers={"Authorization": f"Bearer {(home / 'token').read_text()}"},
                files={"file": (path.name, f, "text/csv")},
                timeout=3600,
            )
        dt = time.perf_counter() - t0
        body = r.json()
        if r.status_code >= 400:
            print(r.status_code, str(body)[:300], file=sys.stderr)
        peak = _status(srv.pid, "VmHWM")
    finally:
        srv.terminate()
        srv.wait(30)
    return {
        "status": body.get("status", str(r.status_code)),
        "rows": body.get("rows_total", 0),
        "s": dt,
        "base": base,
        "peak": peak,
    }


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
    ap.add_argument("--api", action="store_true", help="also measure a POST to a server")
    a = ap.parse_args()
    from istvhub.ingest.synthetic import make_extract

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        csv = d / "RJ122_2025-03.csv"
        probe = make_extract(d / "probe.csv", 10_000)
        per_row = (d / "probe.csv").stat().st_size / probe
        make_extract(csv, int(a.mb * 1024 * 1024 / per_row))
        old = str(Path(a.old) / "src") if a.old else None
        if old:
            report("old", csv, measure(csv, f"sqlite:///{d / 'old.db'}", old))
        report("csv", csv, measure(csv, f"sqlite:///{d / 'csv.db'}"))
        if a.api and old:
            report("oldapi", csv, measure_api(csv, f"sqlite:///{d / 'oa.db'}", d / "oa", old))
        if a.api:
            report("api", csv, measure_api(csv, f"sqlite:///{d / 'api.db'}", d / "api"))
        if a.xlsx_rows:
            import pandas as pd

            xlsx = d / "RJZ01_2025-03.xlsx"
            make_extract(d / "x.csv", a.xlsx_rows, dept="RJZ01")
            pd.read_csv(d / "x.csv", dtype=str).to_excel(xlsx, index=False)
            if old:
                report("oldx", xlsx, measure(xlsx, f"sqlite:///{d / 'oldx.db'}", old))
            report("xlsx", xlsx, measure(xlsx, f"sqlite:///{d / 'xlsx.db'}"))


if __name__ == "__main__":
    main()
