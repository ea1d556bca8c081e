"""Concurrency (issue 8, point 4): simultaneous uploads of one department-month become ordered
versions (never a mix); different departments do not wait for each other on PostgreSQL and run
through `istvhub serve --workers 2`; re-geocoding while uploads continue neither loses nor
double-counts a record. Loopback only, bounded time."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from _server import running_server
from istvhub.records import make_record_id
from istvhub.store import open_store
from istvhub.store import schema as S

FEEDS = Path(__file__).resolve().parents[1] / "sample_feeds"
CLI = [sys.executable, "-m", "istvhub"]


def _env(home: Path, db_url: str | None = None) -> dict[str, str]:
    env = {**os.environ, "ISTVHUB_HOME": str(home)}
    env.pop("ISTVHUB_DB", None)
    if db_url:
        env["ISTVHUB_DB"] = db_url
    return env


def _frame(dept: str, period: str, tag: str, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(abs(hash(tag)) % 2**32)
    return pd.DataFrame(
        {
            "record_id": [make_record_id(dept, f"{tag}-{i}") for i in range(n)],
            "department": dept,
            "period": period,
            "source_row": np.arange(2, n + 2),
            "arrival_at": pd.Timestamp(f"{period}-02 21:00")
            + pd.to_timedelta(rng.integers(0, 20 * 86400, n), unit="s"),
            "location_text": None,
            "location_type": "street",
            "weapon": "body_part",
            "age_band": "18-24",
            "sex": "male",
        }
    )


def _versions(url: str, dept: str, period: str) -> list[dict]:
    eng = sa.create_engine(url)
    s, r = S.submissions, S.records
    with eng.connect() as conn:
        subs = (
            conn.execute(
                sa.select(s)
                .where(s.c.department == dept, s.c.period == period)
                .order_by(s.c.version)
            )
            .mappings()
            .all()
        )
        out = []
        for x in subs:
            ids = set(
                conn.execute(
                    sa.select(r.c.record_id).where(r.c.submission_id == x["submission_id"])
                ).scalars()
            )
            n = conn.execute(
                sa.select(sa.func.count())
                .select_from(r)
                .where(r.c.submission_id == x["submission_id"])
            ).scalar_one()
            out.append({**dict(x), "ids": ids, "n": n})
    eng.dispose()
    return out


def test_same_month_at_once_gives_ordered_versions_never_a_mix(db_url: str) -> None:
    store = open_store(db_url)
    n_up, n_rows = 4, 3000
    frames = {f"up{k}": _frame("RJ122", "2025-04", f"up{k}", n_rows) for k in range(n_up)}
    gate = threading.Barrier(n_up)

    def up(tag: str):
        gate.wait()
        return store.store_submission(
            department="RJ122",
            period="2025-04",
            file_sha256=hashlib.sha256(tag.encode()).hexdigest(),
            source_filename=f"{tag}.csv",
            adapter="test",
            records=frames[tag],
            uploaded_by=tag,
        )

    with ThreadPoolExecutor(n_up) as ex:
        results = list(ex.map(up, frames))
    store.dispose()
    assert sorted(r.version for r in results) == list(range(1, n_up + 1))
    vers = _versions(db_url, "RJ122", "2025-04")
    assert [v["version"] for v in vers] == list(range(1, n_up + 1))
    assert [v["status"] for v in vers] == ["superseded"] * (n_up - 1) + ["current"]
    by_file = {tag: set(df["record_id"]) for tag, df in frames.items()}
    for v in vers:  # each version is exactly one upload's records, complete
        assert v["n"] == n_rows == v["rows_accepted"]
        assert v["ids"] == by_file[v["uploaded_by"]]
    # versions follow commit order: the result that says "supersedes k" really superseded k
    for r in results:
        assert r.superseded_version == (r.version - 1 if r.version > 1 else None)


def test_same_month_two_cli_ingests_at_once(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    open_store(db_url).dispose()
    src = (FEEDS / "RJ122" / "RJ122_2025-03.csv").read_text(encoding="utf-8-sig").splitlines()
    a, b = tmp_path / "a" / "RJ122_2025-03.csv", tmp_path / "b" / "RJ122_2025-03.csv"
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_text("\n".join(src) + "\n", encoding="utf-8")
    b.write_text("\n".join(src[:-10]) + "\n", encoding="utf-8")  # a shorter resend
    procs = [
        subprocess.Popen(
            [*CLI, "ingest", str(f), "--no-geocode", "--db", db_url, "--json"],
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for f in (a, b)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-500:] for _, e in outs]
    res = [json.loads(o)[0] if o.strip().startswith(b"[") else json.loads(o) for o, _ in outs]
    assert sorted(r["version"] for r in res) == [1, 2]
    vers = _versions(db_url, "RJ122", "2025-03")
    assert [v["status"] for v in vers] == ["superseded", "current"]
    accepted = {r["version"]: r["rows_accepted"] for r in res}
    for v in vers:
        assert v["n"] == v["rows_accepted"] == accepted[v["version"]]
    assert vers[0]["ids"] != vers[1]["ids"]
    assert vers[1]["ids"] < vers[0]["ids"] or vers[0]["ids"] < vers[1]["ids"]


@pytest.mark.postgres
def test_departments_do_not_wait_for_each_other_on_postgres(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the per department-month lock is PostgreSQL's; SQLite has one writer")
    store = open_store(db_url)
    holder = store.engine.connect()
    txn = holder.begin()
    store._lock_department_period(holder, "RJ122", "2025-05")  # an upload of RJ122 in flight
    done: dict[str, object] = {}

    def up(dept: str) -> None:
        done[dept] = store.store_submission(
            department=dept,
            period="2025-05",
            file_sha256=hashlib.sha256(dept.encode()).hexdigest(),
            source_filename="x.csv",
            adapter="test",
            records=_frame(dept, "2025-05", dept, 500),
        )

    same = threading.Thread(target=up, args=("RJ122",))
    same.start()
    # RJ122's second writer really waits on that advisory lock (seen in pg_locks) ...
    from istvhub.store.backends import _lock_key

    key = _lock_key("RJ122", "2025-05") & 0xFFFF_FFFF_FFFF_FFFF
    with store.engine.connect() as c:
        for _ in range(300):
            waiting = c.execute(
                sa.text(
                    "select count(*) from pg_locks where locktype = 'advisory' and not granted "
                    "and classid = :hi and objid = :lo"
                ),
                {"hi": key >> 32, "lo": key & 0xFFFF_FFFF},
            ).scalar_one()
            if waiting:
                break
            time.sleep(0.1)
    assert waiting >= 1
    # ... while other departments store straight through
    others = [threading.Thread(target=up, args=(d,)) for d in ("RJZ01", "RJ701", "R1H12")]
    for t in others:
        t.start()
    for t in others:
        t.join(60)
    assert {d: done[d].status for d in ("RJZ01", "RJ701", "R1H12")} == dict.fromkeys(
        ("RJZ01", "RJ701", "R1H12"), "stored"
    )
    assert "RJ122" not in done and same.is_alive()
    txn.rollback()
    holder.close()
    same.join(60)
    assert done["RJ122"].status == "stored"
    store.dispose()


@pytest.mark.postgres
def test_departments_upload_in_parallel_through_two_workers(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers share a PostgreSQL store")
    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    home = tmp_path / "home"
    home.mkdir()
    store = open_app_store(Settings(home=home, db=db_url))
    token = users.add_user(store.engine, "admin", "admin")[1]
    files = [
        p
        for d in ("RJ122", "RJZ01", "R1H12", "RYJ01")
        for p in sorted((FEEDS / d).glob(f"{d}_2025-0[12].csv"))
    ]
    assert len(files) == 8
    with running_server(home, db_url, tmp_path / "serve.log", workers=2) as base:

        def up(path: Path) -> httpx.Response:
            return httpx.post(
                base + "/submissions",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (path.name, path.read_bytes())},
                timeout=120,
            )

        with ThreadPoolExecutor(len(files)) as ex:
            res = list(ex.map(up, files))
        assert all(r.status_code == 201 for r in res), [r.text[:200] for r in res]
        got = {(r.json()["department"], r.json()["period"]): r.json() for r in res}
        assert len(got) == 8 and all(g["status"] == "stored" for g in got.values())
        subs = store.submissions(current_only=True)
        assert len(subs) == 8 and set(subs["version"]) == {1}
        recs = store.current_records()
        counts = recs.groupby(["department", "period"]).size().to_dict()
        assert counts == {k: g["rows_accepted"] for k, g in got.items()}
        assert not recs.duplicated(["submission_id", "record_id"]).any()
    store.dispose()


def test_regeocode_while_uploads_continue(
    db_url: str, tmp_path: Path, gazetteer_home: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "gazetteer").symlink_to(gazetteer_home / "gazetteer", target_is_directory=True)
    store = open_store(db_url)
    first = sorted((FEEDS / "RJ122").glob("RJ122_2025-0[1-4].csv"))
    from istvhub.ingest.core import ingest_file

    expected: dict[tuple[str, str], int] = {}
    for f in first:
        r = ingest_file(f, store, geocode=False)
        expected[(r.department, r.period)] = r.rows_accepted
    geo = subprocess.Popen(
        [*CLI, "geocode", "--stored", "--db", db_url, "--home", str(home)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # until it ends: new departments, and changed re-uploads of months being re-geocoded
    pool = [*sorted((FEEDS / "RJZ01").glob("RJZ01_2025-0[1-5].csv")), *first]
    lines = {f: f.read_text(encoding="utf-8-sig").splitlines() for f in pool}
    n_up = 0
    while geo.poll() is None and n_up < 200:
        f = pool[n_up % len(pool)]
        d = tmp_path / f"u{n_up}"
        d.mkdir()
        drop = 1 + n_up // len(pool)  # each round resends every month with fewer rows
        (d / f.name).write_text("\n".join(lines[f][:-drop]) + "\n", encoding="utf-8")
        r = ingest_file(d / f.name, store, geocode=False)
        assert r.status == "stored", r.message
        expected[(r.department, r.period)] = r.rows_accepted
        n_up += 1
    assert n_up >= 3, "the re-geocode ended before uploads could overlap it"
    _, err = geo.communicate(timeout=300)
    assert geo.returncode == 0, err[-1000:]
    recs = store.current_records()
    subs = store.submissions(current_only=True)
    store.dispose()
    counts = recs.groupby(["department", "period"]).size().to_dict()
    assert counts == expected  # nothing lost, nothing counted twice
    assert not recs.duplicated(["submission_id", "record_id"]).any()
    acc = dict(
        zip(
            zip(subs["department"], subs["period"], strict=True), subs["rows_accepted"], strict=True
        )
    )
    assert acc == expected
    # the re-geocode did its work on the versions that were current when it read them
    eng = sa.create_engine(db_url)
    with eng.connect() as c:
        n_geo = c.execute(
            sa.select(sa.func.count())
            .select_from(S.records)
            .where(S.records.c.gazetteer_version.is_not(None))
        ).scalar_one()
    eng.dispose()
    assert n_geo >= sum(v for k, v in expected.items() if k[0] == "RJ122") // 2
