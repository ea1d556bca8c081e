"""Soak: mixed uploads, geocoding and downloads against `istvhub serve --workers 2` on
PostgreSQL (fresh schema), with uvicorn worker kills on the way, then an exact reconciliation of
every uploaded row against the store.

    .venv/bin/python benchmarks/soak.py [--minutes 5] [--clients 4] [--kills 3] [--pg URL]
                                        [--gazetteer DIR] [--seed N] [--keep]

Load: ``--clients`` threads loop until the time is up, each picking an operation: an ED upload
of a department-month (real sample feeds; a first upload, an identical re-upload, or a changed
re-upload = a new version), a geocoding batch (POST /geocode), or a download (CSP hot-block
GeoJSON, MOPAC compliance, an ED's records page). `istvhub geocode --stored` re-geocodes the
store twice on the way. ``--kills`` times a uvicorn worker process gets SIGKILL (the uvicorn
master starts a new one). Requests cut by a kill count as errors (connection errors listed
apart from HTTP 5xx).

Reconciliation (must be exact): every file the hub acknowledged as stored is in the store;
every stored version holds exactly the rows that file yields (record ids compared with a local
ingest of the same bytes); each department-month has versions 1..n with exactly one current,
the newest; every current record appears once. Prints requests served, errors and latency
percentiles per operation.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
FEEDS = REPO / "sample_feeds"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLI = [sys.executable, "-m", "istvhub"]
DEPTS = ("RJ122", "RJZ01", "R1H12", "RYJ01", "RJ701", "RQXM1", "R1K12")


@dataclass
class Stats:
    lat: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    served: int = 0
    http_5xx: int = 0
    conn_errors: int = 0
    client_4xx: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # acknowledged uploads: (department, period, version, sha256)
    acked: list[tuple[str, str, int, str]] = field(default_factory=list)
    unchanged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_gazetteer(arg: str | None) -> Path | None:
    """A built gazetteer dir (with CURRENT): the argument, or the newest test cache."""
    if arg:
        p = Path(arg)
        return p if (p / "CURRENT").is_file() else p / "gazetteer"
    cands = sorted(
        (REPO / "tests" / ".cache").glob("gazetteer-*/gazetteer/CURRENT"),
        key=lambda p: p.stat().st_mtime,
    )
    return cands[-1].parent if cands else None


def worker_pids(master: int) -> list[int]:
    """uvicorn worker processes: children of the serve process started by multiprocessing."""
    out = []
    try:
        kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return out
    for k in kids:
        try:
            cmd = Path(f"/proc/{k}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"spawn_main" in cmd or b"multiprocessing" in cmd and b"resource_tracker" not in cmd:
            out.append(int(k))
    return out


class Files:
    """Upload payloads: originals plus changed re-sends (some rows dropped), by sha256."""

    def __init__(self, rng: random.Random, tmp: Path) -> None:
        self.rng = rng
        self.tmp = tmp
        self.by_month: dict[tuple[str, str], Path] = {}
        for d in DEPTS:
            for p in sorted((FEEDS / d).glob(f"{d}_2025-??.*")):
                m = re.match(rf"{d}_(2025-\d\d)\.(csv|txt|xlsx)$", p.name)
                if m:
                    self.by_month[(d, m.group(1))] = p
        self.bytes_of: dict[str, tuple[str, bytes]] = {}  # sha -> (filename, bytes)
        self.lock = threading.Lock()

    def pick(self, kind: str) -> tuple[str, str, str, bytes]:
        """(department, filename, sha, bytes) for a first upload, 'same' or 'changed' resend."""
        (dept, _), path = self.rng.choice(sorted(self.by_month.items()))
        data = path.read_bytes()
        if kind == "changed" and path.suffix != ".xlsx":
            lines = data.split(b"\n")
            body = list(range(1, len(lines) - 2))
            drop = set(self.rng.sample(body, k=min(len(body), self.rng.randint(1, 6))))
            data = b"\n".join(x for i, x in enumerate(lines) if i not in drop)
        sha = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.bytes_of[sha] = (path.name, data)
        return dept, path.name, sha, data


def client_loop(
    base: str,
    tokens: dict[str, str],
    files: Files,
    texts: list[str],
    stats: Stats,
    deadline: float,
    seed: int,
) -> None:
    rng = random.Random(seed)
    http = httpx.Client(base_url=base, timeout=300)
    sids: list[tuple[str, int]] = []
    while time.time() < deadline:
        r = rng.random()
        try:
            t0 = time.perf_counter()
            if r < 0.5:
                kind = rng.choice(["first", "first", "same", "changed", "changed"])
                dept, name, sha, data = files.pick(kind)
                op = "upload"
                resp = http.post(
                    "/submissions",
                    headers={"Authorization": f"Bearer {tokens['ed:' + dept]}"},
                    files={"file": (name, data)},
                )
                if resp.status_code == 201:
                    body = resp.json()
                    with stats.lock:
                        if body["status"] == "stored":
                            stats.acked.append(
                                (body["department"], body["period"], int(body["version"]), sha)
                            )
                            sids.append((dept, int(body["submission_id"])))
                        else:
                            stats.unchanged += 1
            elif r < 0.7:
                op = "geocode"
                batch = rng.sample(texts, 20)
                resp = http.post(
                    "/geocode",
                    json={"texts": batch, "department": "RJ122"},
                    headers={"Authorization": f"Bearer {tokens['ed:RJ122']}"},
                )
            elif r < 0.8 and sids:
                op = "records"
                dept, sid = rng.choice(sids)
                resp = http.get(
                    f"/submissions/{sid}/records?limit=500",
                    headers={"Authorization": f"Bearer {tokens['ed:' + dept]}"},
                )
            elif r < 0.9:
                op = "compliance"
                resp = http.get(
                    "/compliance", headers={"Authorization": f"Bearer {tokens['mopac']}"}
                )
            else:
                op = "hotblocks"
                resp = http.get(
                    "/layers/hotblocks?format=geojson&layer=blocks&from=2025-01&to=2025-06",
                    headers={"Authorization": f"Bearer {tokens['csp']}"},
                )
            dt = time.perf_counter() - t0
            with stats.lock:
                stats.served += 1
                stats.lat[op].append(dt)
                stats.by_status[f"{op} {resp.status_code}"] += 1
                if resp.status_code >= 500:
                    stats.http_5xx += 1
                elif resp.status_code >= 400 and resp.status_code != 404:
                    stats.client_4xx += 1
        except httpx.HTTPError:
            with stats.lock:
                stats.conn_errors += 1
            time.sleep(0.2)
    http.close()


def expected_rows(files: Files, shas: set[str], tmp: Path) -> dict[str, set[str]]:
    """Record ids each file yields, from a local ingest of the same bytes (scratch SQLite)."""
    from istvhub.ingest.core import ingest_file
    from istvhub.store import open_store
    from istvhub.store import schema as S

    out: dict[str, set[str]] = {}
    for sha in sorted(shas):
        name, data = files.bytes_of[sha]
        d = tmp / f"ref-{sha[:12]}"
        d.mkdir()
        (d / name).write_bytes(data)
        st = open_store(f"sqlite:///{d / 'ref.db'}")
        res = ingest_file(d / name, st, geocode=False)
        assert res.status == "stored", (name, res.message)
        with st.engine.connect() as c:
            out[sha] = set(c.execute(sa.select(S.records.c.record_id)).scalars())
        st.dispose()
    return out


def reconcile(url: str, stats: Stats, files: Files, tmp: Path) -> list[str]:
    from istvhub.store import schema as S

    problems: list[str] = []
    eng = sa.create_engine(url)
    s, r = S.submissions, S.records
    with eng.connect() as c:
        subs = (
            c.execute(sa.select(s).order_by(s.c.department, s.c.period, s.c.version))
            .mappings()
            .all()
        )
        ids = defaultdict(list)
        for sid, rid in c.execute(sa.select(r.c.submission_id, r.c.record_id)):
            ids[sid].append(rid)
    eng.dispose()
    stored = {(x["department"], x["period"], x["version"]): x for x in subs}
    for a in stats.acked:
        x = stored.get(a[:3])
        if x is None or x["file_sha256"] != a[3]:
            problems.append(f"acknowledged upload {a[:3]} missing or different in the store")
    want = expected_rows(files, {x["file_sha256"] for x in subs}, tmp)
    months = defaultdict(list)
    for x in subs:
        months[(x["department"], x["period"])].append(x)
        got = ids.get(x["submission_id"], [])
        if len(got) != len(set(got)):
            problems.append(f"{x['department']} {x['period']} v{x['version']}: duplicate rows")
        if set(got) != want[x["file_sha256"]] or len(got) != x["rows_accepted"]:
            problems.append(
                f"{x['department']} {x['period']} v{x['version']}: rows differ "
                f"({len(got)} stored, {len(want[x['file_sha256']])} in the file)"
            )
    for k, vs in months.items():
        if [v["version"] for v in vs] != list(range(1, len(vs) + 1)):
            problems.append(f"{k}: versions not 1..n")
        cur = [v for v in vs if v["status"] == "current"]
        if len(cur) != 1 or cur[0]["version"] != len(vs):
            problems.append(f"{k}: {len(cur)} current versions / not the newest")
    n_rows = sum(len(ids.get(x["submission_id"], [])) for x in subs)
    n_cur = sum(len(ids.get(x["submission_id"], [])) for x in subs if x["status"] == "current")
    print(
        f"reconciliation: {len(subs)} versions of {len(months)} department-months, "
        f"{len(stats.acked)} acknowledged stores + {stats.unchanged} unchanged re-uploads; "
        f"{n_rows} rows stored ({n_cur} current) compared row by row with their files: "
        + ("EXACT" if not problems else f"{len(problems)} PROBLEMS")
    )
    return problems


_TOKEN_RE = re.compile(rb"istv_[A-Za-z0-9_\-]{30,}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pg", default=os.environ.get("ISTVHUB_TEST_PG", PG))
    ap.add_argument("--gazetteer", default=None, help="built gazetteer dir (default: test cache)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    a = ap.parse_args()
    minutes = min(max(a.minutes, 0.2), 30.0)
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    schema = f"soak_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(a.pg)
    with admin.begin() as c:
        c.execute(sa.text(f'create schema "{schema}"'))
    url = f"{a.pg}?options=-csearch_path%3D{schema}"
    tmp_ctx = tempfile.TemporaryDirectory(prefix="istv-soak-")
    tmp = Path(tmp_ctx.name)
    home = tmp / "home"
    home.mkdir()
    gaz = find_gazetteer(a.gazetteer)
    if gaz is not None:
        (home / "gazetteer").symlink_to(gaz.resolve(), target_is_directory=True)
    print(
        f"soak: {minutes:g} min, {a.clients} clients, {a.workers} workers, {a.kills} kills, "
        f"seed {seed}, schema {schema}, gazetteer {'yes' if gaz else 'NONE'}"
    )
    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    store = open_app_store(Settings(home=home, db=url))
    tokens = {
        f"ed:{d}": users.add_user(store.engine, f"ed-{d}", "ed_analyst", departments=[d])[1]
        for d in DEPTS
    }
    tokens["csp"] = users.add_user(
        store.engine, "csp-1", "csp_analyst", boroughs=["Westminster", "Lambeth"]
    )[1]
    tokens["mopac"] = users.add_user(store.engine, "mopac-1", "mopac")[1]
    store.dispose()
    env = {**os.environ, "ISTVHUB_HOME": str(home), "ISTVHUB_DB": url}
    port = free_port()
    log_path = tmp / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", str(a.workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    t_start = time.time()
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.time() - t_start > 120:
            print(log_path.read_text(errors="replace")[-3000:])
            return 2
        time.sleep(0.2)
    print(f"server up in {time.time() - t_start:.1f} s on {base}")
    import csv

    with open(FEEDS / "ground_truth.csv", newline="", encoding="utf-8") as fh:
        texts = sorted({row["text"] for row in csv.DictReader(fh) if row["text"]})
    files = Files(rng, tmp)
    stats = Stats()
    deadline = time.time() + minutes * 60
    threads = [
        threading.Thread(
            target=client_loop,
            args=(base, tokens, files, texts, stats, deadline, seed + i),
            daemon=True,
        )
        for i in range(a.clients)
    ]
    for t in threads:
        t.start()
    # worker kills and stored re-geocodes, spread over the run
    events = sorted(
        [("kill", t) for t in np.linspace(0, minutes * 60, a.kills + 2)[1:-1]]
        + [("regeocode", t) for t in (minutes * 60 * 0.3, minutes * 60 * 0.75)],
        key=lambda e: e[1],
    )
    kills, regeos = [], []
    for kind, at in events:
        time.sleep(max(0.0, t_start + at - time.time()))
        if kind == "kill":
            pids = worker_pids(server.pid)
            if pids:
                victim = rng.choice(pids)
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)
                print(f"  {time.time() - t_start:6.0f} s: SIGKILL worker {victim} (workers {pids})")
        else:  # in the background, while the uploads go on
            print(f"  {time.time() - t_start:6.0f} s: geocode --stored started")
            regeos.append(
                (
                    time.perf_counter(),
                    subprocess.Popen(
                        [*CLI, "geocode", "--stored", "--db", url, "--home", str(home)],
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                    ),
                )
            )
    for t in threads:
        t.join()
    regeo_rc = []
    for t0, p in regeos:
        out, _ = p.communicate(timeout=900)
        regeo_rc.append(p.returncode)
        last = out.decode(errors="replace").strip().splitlines()[-1:] or [""]
        print(
            f"  geocode --stored exit {p.returncode} after {time.perf_counter() - t0:.1f} s "
            f"(or less): {last[0][:120]}"
        )
    alive = worker_pids(server.pid)
    elapsed = time.time() - t_start
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()
    print(
        f"\nran {elapsed / 60:.1f} min; workers alive at the end: {len(alive)} "
        f"(after {len(kills)} kills)"
    )
    all_lat = [x for v in stats.lat.values() for x in v]
    print(
        f"requests served {stats.served}; errors: {stats.http_5xx} HTTP 5xx, "
        f"{stats.conn_errors} connection errors (requests cut by worker kills), "
        f"{stats.client_4xx} other 4xx"
    )
    print(f"{'operation':<11} {'n':>6} {'p50 s':>8} {'p95 s':>8} {'max s':>8}")
    for op, v in sorted(stats.lat.items()) + [("all", all_lat)]:
        if v:
            q = np.percentile(v, [50, 95])
            print(f"{op:<11} {len(v):>6} {q[0]:>8.2f} {q[1]:>8.2f} {max(v):>8.2f}")
    print("statuses: " + ", ".join(f"{k}: {n}" for k, n in sorted(stats.by_status.items())))
    from istvhub.ingest.pii import _NHS_RE, is_valid_nhs_number

    log_text = log_path.read_bytes()
    leaks = len(_TOKEN_RE.findall(log_text))
    nhs = sum(
        is_valid_nhs_number("".join(m.groups()))
        for m in _NHS_RE.finditer(log_text.decode(errors="replace"))
    )
    print(
        f"server log: {len(log_text)} bytes; API tokens in it: {leaks}, NHS-number-like "
        f"tokens: {nhs}"
    )
    leaks += nhs
    problems = reconcile(url, stats, files, tmp)
    for p in problems[:20]:
        print("  PROBLEM", p)
    if not a.keep:
        with admin.begin() as c:
            c.execute(sa.text(f'drop schema "{schema}" cascade'))
    admin.dispose()
    tmp_ctx.cleanup()
    bad = problems or leaks or any(rc != 0 for rc in regeo_rc) or stats.http_5xx
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
