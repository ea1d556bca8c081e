"""Store tests on SQLite and PostgreSQL (the ``db_url`` fixture runs each test on both)."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store import open_store, read_registry, registry_path
from istvhub.store import schema as S


def _records(dept: str, period: str, n: int, tag: str = "") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"{tag}{dept}{period}{i:06d}"[-24:] for i in range(n)],
            "department": dept,
            "period": period,
            "source_row": range(1, n + 1),
            "arrival_at": pd.date_range(f"{period}-01 00:30", periods=n, freq="37min"),
            "incident_date": [f"{period}-01"] * n,
            "incident_time": ["22:15:00"] * n,
            "location_text": [f"o/s shop {i} high st" for i in range(n)],
            "location_type": "street",
            "weapon": "sharp",
            "weapon_text": None,
            "age_band": "18-24",
            "sex": "female",
        }
    )


def _store(store, dept="RJ122", period="2025-03", sha="a" * 64, n=3, tag=""):
    return store.store_submission(
        department=dept,
        period=period,
        file_sha256=sha,
        source_filename=f"{dept}_{period}.csv",
        adapter="test",
        records=_records(dept, period, n, tag),
    )


def test_registry_loaded_and_idempotent(db_url):
    reg = read_registry(registry_path())
    st = open_store(db_url)
    deps = st.departments()
    assert set(deps["ods_code"]) == {r["ods_code"] for r in reg}
    assert len(deps) >= 20
    before = st.dump_tables(["departments"])
    st2 = open_store(db_url)  # a second open must not duplicate or change rows
    assert st2.dump_tables(["departments"]) == before
    st.dispose()
    st2.dispose()


def test_versions_supersede_and_identical_is_noop(db_url):
    st = open_store(db_url)
    r1 = _store(st, sha="a" * 64, n=3)
    assert (r1.status, r1.version, r1.superseded_version) == ("stored", 1, None)
    same = _store(st, sha="a" * 64, n=3)
    assert same.status == "unchanged" and same.version == 1
    r2 = _store(st, sha="b" * 64, n=5, tag="v2")
    assert (r2.status, r2.version, r2.superseded_version) == ("stored", 2, 1)
    subs = st.submissions("RJ122")
    assert list(subs["version"]) == [1, 2]
    assert list(subs["status"]) == ["superseded", "current"]
    cur = st.current_records("RJ122")
    assert len(cur) == 5 and set(cur["submission_id"]) == {r2.submission_id}
    with st.engine.connect() as c:  # the old version's records are kept, not counted
        assert c.execute(sa.select(sa.func.count()).select_from(S.records)).scalar() == 8
    assert st.current_records(period_from="2025-04").empty
    st.dispose()


def test_current_records_reads_only_the_columns_asked_for(db_url):
    """A layer build reads its input columns only; rows, order and values match the full read."""
    from istvhub.hotblocks.service import LAYER_READ_COLUMNS

    st = open_store(db_url)
    _store(st, sha="a" * 64, n=3)
    _store(st, sha="b" * 64, n=4, tag="v2")  # supersedes: only these 4 are current
    _store(st, dept="RJ122", period="2025-04", sha="c" * 64, n=2)
    full = st.current_records(period_from="2025-03", period_to="2025-04")
    some = st.current_records(
        period_from="2025-03", period_to="2025-04", columns=LAYER_READ_COLUMNS
    )
    assert list(some.columns) == list(LAYER_READ_COLUMNS)
    assert "location_text" not in some.columns and "weapon_text" not in some.columns
    assert len(some) == len(full) == 6
    assert list(some["record_id"]) == list(full["record_id"])
    assert some["lat"].dtype == "float64"
    pd.testing.assert_frame_equal(
        some[["department", "period", "weapon"]], full[["department", "period", "weapon"]]
    )
    st.dispose()


def test_update_geocodes_by_id(db_url):
    st = open_store(db_url)
    _store(st, n=4)
    cur = st.current_records()
    upd = cur[["id"]].copy()
    upd["geo_status"] = ["located", "home", "unknown", "located"]
    upd["lat"] = [51.5, None, None, 51.4]
    upd["lsoa_code"] = ["E01000001", None, None, "E01000002"]
    upd["gazetteer_version"] = "g1"
    assert st.update_geocodes(upd) == 4
    after = st.current_records().set_index("id")
    assert list(after.loc[upd["id"], "geo_status"]) == ["located", "home", "unknown", "located"]
    assert after.loc[upd["id"].iloc[0], "lat"] == pytest.approx(51.5)
    assert pd.isna(after.loc[upd["id"].iloc[1], "lat"])
    st.dispose()


def test_failed_store_rolls_back_everything(db_url):
    st = open_store(db_url)
    _store(st, n=2)
    before = st.dump_tables()
    bad = _records("RJ122", "2025-03", 3)
    bad.loc[2, "arrival_at"] = pd.NaT  # NOT NULL violation on the last row
    with pytest.raises(StoreError):
        st.store_submission(
            department="RJ122",
            period="2025-03",
            file_sha256="c" * 64,
            source_filename="bad.csv",
            adapter="test",
            records=bad,
        )
    assert st.dump_tables() == before
    st.dispose()


def test_concurrent_uploads_of_one_month_get_distinct_versions(db_url):
    """Two simultaneous uploads of the same department-month: versions 1 and 2, one current."""
    open_store(db_url).dispose()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def upload(tag: str) -> None:
        st = open_store(db_url)
        try:
            barrier.wait()
            results.append(_store(st, sha=tag * 64, n=200, tag=tag))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            st.dispose()

    threads = [threading.Thread(target=upload, args=(t,)) for t in ("d", "e")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.version for r in results) == [1, 2]
    st = open_store(db_url)
    subs = st.submissions("RJ122")
    assert sorted(subs["version"]) == [1, 2]
    assert (subs["status"] == "current").sum() == 1
    cur = st.current_records("RJ122")
    current_sid = int(subs.loc[subs["status"] == "current", "submission_id"].iloc[0])
    assert len(cur) == 200 and set(cur["submission_id"]) == {current_sid}
    st.dispose()


def test_audit_log(db_url):
    st = open_store(db_url)
    st.audit("analyst@ed", "export", "hotblocks 2025-03", client="cli")
    log = st.audit_log()
    assert list(log["action"]) == ["export"]
    assert log["actor"].iloc[0] == "analyst@ed"
    st.dispose()


def test_exclusive_lock_is_shared_by_separate_store_objects(db_url):
    """Two stores on one database (as two API workers are) exclude each other by name; other
    names do not wait."""
    import threading

    from istvhub.store import open_store

    a, b = open_store(db_url), open_store(db_url)
    holding, b_in, other_in = threading.Event(), threading.Event(), threading.Event()
    release = threading.Event()

    def hold() -> None:
        with a.exclusive("layers:k1"):
            holding.set()
            release.wait(10)

    def wait_same() -> None:
        with b.exclusive("layers:k1"):
            b_in.set()

    def other_name() -> None:
        with b.exclusive("layers:k2"):
            other_in.set()

    t1 = threading.Thread(target=hold)
    t1.start()
    assert holding.wait(10)
    t2, t3 = threading.Thread(target=wait_same), threading.Thread(target=other_name)
    t2.start()
    t3.start()
    assert other_in.wait(10), "a different name must not wait"
    assert not b_in.wait(0.5), "the same name must wait for the holder"
    release.set()
    t1.join(10)
    assert b_in.wait(10)
    t2.join(10)
    t3.join(10)
    a.dispose()
    b.dispose()
