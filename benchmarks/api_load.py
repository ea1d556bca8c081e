"""Load test of `istvhub serve --workers 2` on PostgreSQL over loopback.

20 concurrent clients upload 20 distinct department-months (real sample feeds, each client an ED
analyst of that department); then the same 20 files are re-sent concurrently (must all be
no-ops); then 50 concurrent clients download hot-block layers (GeoPackage, 5 filter sets, so
builds race each other), and again warm (the same 50 requests, from the shared export cache);
then the same for 50 CSP analysts (5 boroughs, each its own), cold and warm. Checks: every
upload accounted for exactly once (submissions, versions, record counts in the database match
the responses), no errors. Prints p50/p95/max latencies.

    .venv/bin/python benchmarks/api_load.py [--pg URL] [--gazetteer-home DIR] [--timeout 600]

Bounded: every request has a timeout and the whole run a deadline; the server binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
FEEDS = REPO / "sample_feeds"
CSP_BOROUGHS = ("Westminster", "Lambeth", "Southwark", "Camden", "Hackney")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_uploads(n: int) -> list[dict]:
    """n clean department-month files from the manifest (no PII file, no second version)."""
    rows = list(csv.DictReader((FEEDS / "manifest.csv").open()))
    seen, out = set(), []
    for r in rows:
        key = (r["department"], r["period"])
        if "pii" in r["file"].lower() or "re-upload" in r["note"] or key in seen:
            continue
        if "PII" in r["note"] or "_v2" in r["file"]:
            continue
        seen.add(key)
        out.append(r)
    # spread over departments: round-robin by department
    by: dict[str, list[dict]] = {}
    for r in out:
        by.setdefault(r["department"], []).append(r)
    picked: list[dict] = []
    while len(picked) < n and any(by.values()):
        for d in list(by):
            if by[d] and len(picked) < n:
                picked.append(by[d].pop(0))
    return picked


def find_gazetteer_home() -> Path | None:
    cands = sorted(
        (REPO / "tests" / ".cache").glob("gazetteer-*/gazetteer/CURRENT"),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    return cands[0].parent.parent if cands else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--pg",
        default=os.environ.get(
            "ISTVHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    ap.add_argument("--gazetteer-home", type=Path, default=None)
    ap.add_argument("--uploads", type=int, default=20)
    ap.add_argument("--downloads", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600.0, help="deadline for the whole run")
    ap.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="seconds between /health answering and the first upload: the workers' warm-up "
        "(block index, geocoder) runs in the background, as it would before analysts arrive",
    )
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout

    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(args.pg)
    with eng.begin() as c:
        c.execute(sa.text(f'create schema "{schema}"'))
    url = f"{args.pg}?options=-csearch_path%3D{schema}"
    tmp = Path(tempfile.mkdtemp(prefix="istvhub-load-"))
    proc = None
    try:
        home = tmp / "home"
        home.mkdir()
        gh = args.gazetteer_home or find_gazetteer_home()
        if gh is None:
            from istvhub.gazetteer.build import build

            print("building the gazetteer (no cached one found) ...", flush=True)
            build(sources=None, out=home / "gazetteer")
        else:
            (home / "gazetteer").symlink_to(Path(gh) / "gazetteer", target_is_directory=True)
        store = open_app_store(Settings(home=home, db=url))
        uploads = pick_uploads(args.uploads)
        tokens = {}
        for d in sorted({u["department"] for u in uploads}):
            tokens[d] = users.add_user(store.engine, f"ed-{d}", "ed_analyst", departments=[d])[1]
        mopac = users.add_user(store.engine, "mopac", "mopac")[1]
        csps = {  # community safety partnership analysts, each scoped to one borough
            b: users.add_user(store.engine, f"csp-{b}", "csp_analyst", boroughs=[b])[1]
            for b in CSP_BOROUGHS
        }
        store.dispose()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ISTVHUB_HOME": str(home), "ISTVHUB_DB": url}
        log = (tmp / "server.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "istvhub",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                print((tmp / "server.log").read_text()[-3000:])
                return 1
            time.sleep(0.2)

        time.sleep(args.settle)

        def remaining() -> float:
            return max(1.0, deadline - time.monotonic())

        def upload(u: dict) -> tuple[int, float, dict]:
            path = FEEDS / u["file"]
            t0 = time.perf_counter()
            r = httpx.post(
                base + "/submissions",
                headers={"Authorization": f"Bearer {tokens[u['department']]}"},
                files={"file": (path.name, path.read_bytes())},
                data={"department": u["department"], "period": u["period"]},
                timeout=remaining(),
            )
            dt = time.perf_counter() - t0
            return (
                r.status_code,
                dt,
                (
                    r.json()
                    if r.headers.get("content-type", "").startswith("application/json")
                    else {"text": r.text[:200]}
                ),
            )

        errors: list[str] = []
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(uploads)) as ex:
            up = list(ex.map(upload, uploads))
        wall_up = time.perf_counter() - t0
        for (code, _, body), u in zip(up, uploads, strict=True):
            if code != 201 or body.get("status") != "stored":
                errors.append(
                    f"upload {u['file']}: {code} {body.get('status')} {body.get('detail', '')}"
                )
        # the same files again, all at once: every one must be a no-op
        with ThreadPoolExecutor(len(uploads)) as ex:
            again = list(ex.map(upload, uploads))
        for (code, _, body), u in zip(again, uploads, strict=True):
            if code not in (200, 201) or body.get("status") != "unchanged":
                errors.append(f"re-upload {u['file']}: {code} {body.get('status')}")

        # accounted for exactly once?
        check = sa.create_engine(url)
        with check.connect() as c:
            subs = c.execute(
                sa.text(
                    "select department, period, version, status, rows_accepted from submissions"
                )
            ).all()
            n_records = c.execute(sa.text("select count(*) from records")).scalar_one()
        check.dispose()
        want = {(u["department"], u["period"]) for u in uploads}
        got = [(s.department, s.period) for s in subs]
        if sorted(got) != sorted(want) or any(
            s.version != 1 or s.status != "current" for s in subs
        ):
            errors.append(f"submissions table: {len(subs)} rows for {len(want)} uploads")
        accepted = sum(b.get("rows_accepted", 0) for _, _, b in up)
        if n_records != accepted or sum(s.rows_accepted for s in subs) != accepted:
            errors.append(f"records: {n_records} stored, {accepted} reported accepted")

        periods = sorted({u["period"] for u in uploads})
        filter_sets = [
            {},
            {"weapon": "sharp"},
            {"weapon": "body_part"},
            {"borough": "Westminster"},
            {"hours": "22-4"},
        ]

        def get_layer(token: str, extra: dict) -> tuple[int, float, int]:
            params = {"from": periods[0], "to": periods[-1], "format": "gpkg", **extra}
            t = time.perf_counter()
            r = httpx.get(
                base + "/layers/hotblocks",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=remaining(),
            )
            return r.status_code, time.perf_counter() - t, len(r.content)

        def mopac_download(i: int) -> tuple[int, float, int]:
            return get_layer(mopac, filter_sets[i % len(filter_sets)])

        def csp_download(i: int) -> tuple[int, float, int]:
            return get_layer(csps[CSP_BOROUGHS[i % len(CSP_BOROUGHS)]], {})

        # each round twice: cold (the builds race each other) then warm (the same requests
        # again, answered from the export cache every worker shares)
        rounds: list[tuple[str, list[tuple[int, float, int]], float]] = []
        for label, fn in (
            (f"MOPAC, {len(filter_sets)} filter sets", mopac_download),
            (f"CSP analysts, {len(CSP_BOROUGHS)} boroughs (own borough each)", csp_download),
        ):
            for state in ("cold", "warm"):
                t0 = time.perf_counter()
                with ThreadPoolExecutor(args.downloads) as ex:
                    got = list(ex.map(fn, range(args.downloads)))
                rounds.append((f"{label}, {state}", got, time.perf_counter() - t0))
                for code, _, size in got:
                    if code != 200 or size < 1000:
                        errors.append(f"download ({label}, {state}): {code} ({size} bytes)")

        up_lat = [d for _, d, _ in up]
        print(
            f"server: istvhub serve --workers {args.workers} on PostgreSQL ({schema}), "
            f"loopback port {port}; cpu count {os.cpu_count()}; uploads began {args.settle:.0f} s "
            "after /health answered"
        )
        print(
            f"uploads: {len(up)} concurrent clients, {len(want)} department-months, "
            f"{accepted} records accepted, wall {wall_up:.1f} s; latency p50 "
            f"{statistics.median(up_lat):.2f} s, p95 {pct(up_lat, 95):.2f} s, "
            f"max {max(up_lat):.2f} s"
        )
        print(
            f"re-uploads: {len(again)} identical files concurrently -> "
            f"{sum(1 for _, _, b in again if b.get('status') == 'unchanged')} unchanged"
        )
        print(
            f"accounted: {len(subs)} submissions rows (all version 1, current), "
            f"{n_records} records = sum of accepted"
        )
        for label, got, wall in rounds:
            lat = [d for _, d, _ in got]
            print(
                f"layer downloads ({label}): {len(got)} concurrent clients (GeoPackage, "
                f"{periods[0]}..{periods[-1]}), wall {wall:.1f} s; latency p50 "
                f"{statistics.median(lat):.2f} s, p95 {pct(lat, 95):.2f} s, max {max(lat):.2f} s"
            )
        print(f"errors: {len(errors)}")
        for e in errors[:20]:
            print("  ", e)
        return 1 if errors else 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with eng.begin() as c:
            c.execute(sa.text(f'drop schema if exists "{schema}" cascade'))
        eng.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
