"""Crash safety (issue 8, point 3): `istvhub ingest` and `istvhub gazetteer build` SIGKILLed at
random points leave either the whole new state or exactly the old one, and the next run works.

Each test runs the real CLI in a subprocess on a large generated extract (ISTV MDS layout,
``ISTVHUB_CRASH_ROWS`` rows, default 150,000) and kills it at times spread over one measured full
run, on SQLite and on PostgreSQL. Bounded: a handful of kills per backend.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from istvhub.ingest.synthetic import make_extract
from istvhub.store import open_store
from istvhub.store import schema as S

ROWS = int(os.environ.get("ISTVHUB_CRASH_ROWS", "150000"))
KILLS = int(os.environ.get("ISTVHUB_CRASH_KILLS", "3"))
CLI = [sys.executable, "-m", "istvhub"]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ISTVHUB_HOME"] = str(home)
    env.pop("ISTVHUB_DB", None)
    return env


def consistency(url: str) -> dict:
    """Invariants that hold for every committed state; returns a comparable summary."""
    eng = sa.create_engine(url)
    s, r, q = S.submissions, S.records, S.quarantine
    with eng.connect() as conn:
        subs = conn.execute(
            sa.select(
                s.c.submission_id,
                s.c.department,
                s.c.period,
                s.c.version,
                s.c.status,
                s.c.rows_accepted,
                s.c.rows_quarantined,
                s.c.file_sha256,
            ).order_by(s.c.submission_id)
        ).all()
        per_sub = dict(
            conn.execute(
                sa.select(r.c.submission_id, sa.func.count()).group_by(r.c.submission_id)
            ).all()
        )
        q_sub = dict(
            conn.execute(
                sa.select(q.c.submission_id, sa.func.count()).group_by(q.c.submission_id)
            ).all()
        )
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(r)
            .where(~r.c.submission_id.in_(sa.select(s.c.submission_id)))
        ).scalar_one()
        dup = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(r.c.submission_id, r.c.record_id)
                .group_by(r.c.submission_id, r.c.record_id)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    eng.dispose()
    assert orphans == 0 and dup == 0
    ids = {x.submission_id for x in subs}
    assert set(per_sub) <= ids and set(q_sub) <= ids
    for x in subs:  # no partial submission: every version holds exactly what it says
        assert per_sub.get(x.submission_id, 0) == x.rows_accepted, x.version
        assert q_sub.get(x.submission_id, 0) == x.rows_quarantined, x.version
    by_month: dict[tuple, list] = {}
    for x in subs:
        by_month.setdefault((x.department, x.period), []).append(x)
    for versions in by_month.values():
        assert [v.version for v in versions] == list(range(1, len(versions) + 1))
        assert sum(v.status == "current" for v in versions) == 1
        assert versions[-1].status == "current"
    return {"subs": [tuple(x) for x in subs], "records": sum(per_sub.values())}


def _ingest(path: Path, url: str, home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        # --confirm-replace: the last version replaces 150,000 rows with 5,000 on purpose
        [*CLI, "ingest", str(path), "--no-geocode", "--confirm-replace", "--db", url, "--json"],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_ingest_killed_mid_write_leaves_old_or_whole_new(db_url: str, tmp_path: Path) -> None:
    rng = random.Random(os.environ.get("ISTVHUB_CRASH_SEED") or time.time_ns())
    home = tmp_path / "home"
    home.mkdir()
    base = tmp_path / "RJ122_2025-03.csv"
    make_extract(base, ROWS, seed=1)
    open_store(db_url).dispose()  # schema + registry, so the first kill is not during create
    t0 = time.perf_counter()
    p = _ingest(base, db_url, home)
    _, err = p.communicate(timeout=180)
    full = time.perf_counter() - t0
    assert p.returncode == 0, err.decode(errors="replace")[-2000:]
    state = consistency(db_url)
    assert state["records"] == ROWS
    lines = base.read_bytes().splitlines(keepends=True)
    outcomes = []
    for k in range(KILLS):
        # a different file each time (one row changed), so a completed run is a new version
        variant = tmp_path / f"RJ122_2025-03_v{k}.csv"
        body = lines[:-1] + [lines[-1].replace(b"A001", f"A9{k:02d}".encode(), 1)]
        variant.write_bytes(b"".join(body))
        # kill times spread over the whole run: startup, read/parse, and the write itself
        lo, hi = full * k / KILLS, full * (k + 1) / KILLS
        at = rng.uniform(max(0.3, lo), max(0.4, hi * 0.97))
        proc = _ingest(variant, db_url, home)
        time.sleep(at)
        finished = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        after = consistency(db_url)
        if after == state:
            outcomes.append("old")
        else:  # the whole new version, on top of exactly the old state
            assert after["subs"][:-1] == [
                (*x[:4], "superseded" if x[4] == "current" else x[4], *x[5:]) for x in state["subs"]
            ]
            new = after["subs"][-1]
            assert new[3] == len(state["subs"]) + 1 and new[4] == "current"
            assert after["records"] == state["records"] + new[5]
            outcomes.append("new" + (" (had finished)" if finished else ""))
        state = after
    # the next ingest works and lands as the next version
    final = tmp_path / "RJ122_2025-03_final.csv"
    make_extract(final, 5000, seed=7)
    p = _ingest(final, db_url, home)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode(errors="replace")[-2000:]
    end = consistency(db_url)
    cur = [x for x in end["subs"] if x[4] == "current"]
    assert len(cur) == 1 and cur[0][5] == 5000 and cur[0][3] == len(end["subs"])
    print(f"full run {full:.1f} s; kill outcomes: {outcomes}")


def _current(gdir: Path) -> str:
    return (gdir / "CURRENT").read_text(encoding="utf-8").strip()


def test_gazetteer_build_killed_keeps_previous_usable(
    gazetteer_home: Path, sources_dir: Path, tmp_path: Path
) -> None:
    from istvhub.gazetteer import load

    gdir = tmp_path / "home" / "gazetteer"
    shutil.copytree(gazetteer_home / "gazetteer", gdir)
    before = _current(gdir)
    versions = sorted(p.name for p in gdir.iterdir())
    rng = random.Random(os.environ.get("ISTVHUB_CRASH_SEED") or time.time_ns())
    cmd = [*CLI, "gazetteer", "build", "--sources", str(sources_dir), "--out", str(gdir)]
    for lo, hi in ((1.0, 4.0), (4.0, 9.0)):  # while reading sources; while writing outputs
        proc = subprocess.Popen(
            cmd, env=_env(tmp_path / "home"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(lo, hi))
        if proc.poll() is not None:  # finished first (fast machine): a whole new version
            assert proc.returncode == 0
            before = _current(gdir)
            versions = sorted(p.name for p in gdir.iterdir())
            assert load(tmp_path / "home").version == before
            continue
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert _current(gdir) == before
        g = load(tmp_path / "home")  # the previous gazetteer still loads
        assert g.version == before and len(g.blocks) > 0
        # nothing half-written is visible as a version
        visible = sorted(p.name for p in gdir.iterdir() if not p.name.startswith("."))
        assert visible == [v for v in versions if not v.startswith(".")]
    # the next build works, clears the killed builds' leftovers and switches CURRENT
    p = subprocess.run(cmd, env=_env(tmp_path / "home"), capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    after = _current(gdir)
    assert after != before
    assert not [x for x in gdir.iterdir() if x.name.startswith(".building-")]
    g = load(tmp_path / "home")
    assert g.version == after and len(g.blocks) > 0
