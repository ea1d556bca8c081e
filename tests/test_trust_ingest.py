"""Issue 14 on both backends, through the ingest path the CLI and the API share: implausible
periods and dates, NHS-number row keys, keyed record ids and their rekeying, department identity,
confirmed replacements, nil returns (header-only file and ``--nil``)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from istvhub._errors import ConfirmationRequired, FileRejected
from istvhub.compliance.read import read_inputs
from istvhub.compliance.report import compliance_report
from istvhub.compliance.rules import load_rules
from istvhub.ingest import plausibility
from istvhub.ingest.core import ingest_bytes, ingest_nil
from istvhub.ingest.rekey import rekey_records
from istvhub.pii import nhs_check_digit
from istvhub.records import keyed_record_id, legacy_record_id, make_record_id, record_id_maker
from istvhub.store import open_store
from istvhub.store import schema as S

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "tests" / "fixtures" / "ingest"
FEEDS = REPO / "sample_feeds"
MDS = (FIX / "RJ122_mds_2025-03.csv").read_bytes()  # RJ122, 2025-03, Attendance_Identifier M1..
ECDS = FEEDS / "RJZ01" / "RJZ01_2025-04.csv"
HOMERTON = FEEDS / "RQXM1" / "RQXM1_2025-01.csv"  # semicolon PAS export, no site column
RJ122_MARCH = FEEDS / "RJ122" / "RJ122_2025-03.csv"


@pytest.fixture
def st(db_url, home):
    s = open_store(db_url)
    yield s
    s.dispose()


def _dump(st) -> dict:
    return st.dump_tables([t.name for t in S.metadata.sorted_tables if t.name != "audit_log"])


def _ingest(st, data: bytes, name: str, home: Path, **kw):
    return ingest_bytes(data, name, st, geocode=False, home=home, **kw)


# --------------------------------------------------------------------------- point 3


@pytest.mark.parametrize("period", ["2030-01", "2099-12", "1999-12", "1900-01", "2009-12"])
def test_implausible_period_refused_with_field(st, home, period):
    data = MDS.replace(b"2025-03", period.encode())
    before = _dump(st)
    with pytest.raises(FileRejected) as exc:
        _ingest(st, data, f"RJ122_{period}.csv", home)
    assert exc.value.field == "Reporting_Period_Start_Date"
    assert "future" in str(exc.value) or "2010-01" in str(exc.value)
    assert _dump(st) == before


def test_future_rows_quarantined_with_row_and_field(st, home):
    now = datetime.now(UTC)
    per = plausibility.bounds().current_period(now)
    today = plausibility.bounds().today(now)
    if today.is_month_end:
        pytest.skip("no future day left in the current month")
    future_day = (today + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    lines = MDS.decode("utf-8-sig").replace("2025-03", per).splitlines()
    cells = lines[1].split(",")
    cells[4] = future_day  # Arrival_Date of data row 1
    cells[6] = ""  # no incident date (it would be after... nothing)
    lines[1] = ",".join(cells)
    res = _ingest(st, "\n".join(lines).encode(), f"RJ122_{per}.csv", home)
    bad = [(r["row"], r["field"]) for r in res.report_rows() if "future" in r["reason"]]
    assert (1, "Arrival_Date") in bad and {f for _, f in bad} == {"Arrival_Date"}
    assert res.rows_quarantined >= 1


def test_future_helper_and_bounds():
    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    s = pd.to_datetime(pd.Series(["2026-03-15", "2026-03-16", None]))
    assert plausibility.future(s, now).tolist() == [False, True, False]
    assert plausibility.bounds().earliest_period == "2010-01"
    with pytest.raises(FileRejected):
        plausibility.check_period("2026-04", file="f.csv", field="period", now=now)
    assert plausibility.check_period("2026-03", file="f.csv", field="period", now=now)


# --------------------------------------------------------------------------- point 2: ids


def _nhs(i: int) -> str:
    for first9 in range(400_000_000 + i * 1000, 400_000_000 + i * 1000 + 1000):
        c = nhs_check_digit(str(first9))
        if c is not None:
            return f"{first9}{c}"
    raise AssertionError


def test_nhs_number_row_keys_refused_naming_column_and_row(st, home):
    numbers = [_nhs(i) for i in range(1, 10)]
    text = MDS.decode("utf-8-sig")
    for i, n in enumerate(numbers, start=1):
        text = text.replace(f",M{i},", f",{n[:3]} {n[3:6]} {n[6:]},")
    before = _dump(st)
    with pytest.raises(FileRejected) as exc:
        _ingest(st, text.encode(), "RJ122_2025-03.csv", home)
    assert exc.value.field == "Attendance_Identifier" and exc.value.row == 1
    digits = "".join(c for c in str(exc.value) if c.isdigit())
    assert not any(n in digits for n in numbers)
    assert _dump(st) == before


def test_record_ids_are_keyed_by_the_installation_secret(st, home, tmp_path):
    res = _ingest(st, MDS, "RJ122_2025-03.csv", home)
    ids = set(st.current_records("RJ122")["record_id"])
    assert res.rows_accepted == len(ids) > 0
    unkeyed = {legacy_record_id("RJ122", f"M{i}") for i in range(1, 40)}
    assert not ids & unkeyed and all(len(i) == 32 for i in ids)
    assert ids & {keyed_record_id(u, home=home) for u in unkeyed}
    one = next(iter(unkeyed))  # another installation (another secret) gets other ids
    assert keyed_record_id(one, home=tmp_path / "other") != keyed_record_id(one, home=home)
    assert (home / "secret.key").stat().st_mode & 0o777 == 0o600
    assert record_id_maker(home)("RJ122", "M1") == make_record_id("RJ122", "M1", home=home)


def test_rekey_converts_legacy_ids_exactly_and_once(st, home):
    monkey = pd.DataFrame(
        {
            "record_id": [legacy_record_id("RJ122", f"M{i}") for i in (1, 2)],
            "department": "RJ122",
            "period": "2025-03",
            "arrival_at": pd.to_datetime(["2025-03-02 23:10", "2025-03-05 01:10"]),
            "location_text": ["o/s shop", "pub"],
            "location_type": "street",
            "weapon": "unknown",
            "age_band": "unknown",
            "sex": "unknown",
            "source_row": [1, 2],
        }
    )
    st.store_submission(
        department="RJ122",
        period="2025-03",
        file_sha256="0" * 64,
        source_filename="old.csv",
        adapter="istv_mds",
        records=monkey,
    )
    assert rekey_records(st, home=home, dry_run=True) == 2
    assert rekey_records(st, home=home) == 2
    assert rekey_records(st, home=home) == 0
    ids = set(st.current_records("RJ122")["record_id"])
    assert ids == {keyed_record_id(r, home=home) for r in monkey["record_id"]}
    # a re-upload of the same month keeps the (now keyed) ids of the same attendances
    res = _ingest(st, MDS, "RJ122_2025-03.csv", home, confirm_replace=True)
    assert res.status == "stored"
    assert ids <= set(st.current_records("RJ122")["record_id"])
    assert any(a == "rekey-records" for a in st.audit_log()["action"])


# --------------------------------------------------------------------------- point 4


def test_file_named_for_another_department_refused_naming_both(st, home):
    before = _dump(st)
    with pytest.raises(FileRejected) as exc:  # RJZ01's rows in a file named for RJ122
        _ingest(st, ECDS.read_bytes(), "RJ122_2025-04.csv", home)
    assert "RJ122" in str(exc.value) and "RJZ01" in str(exc.value)
    with pytest.raises(FileRejected) as exc:  # Homerton's file filed under RJ122
        _ingest(st, HOMERTON.read_bytes(), HOMERTON.name, home, department="RJ122")
    assert "RJ122" in str(exc.value) and "RQXM1" in str(exc.value)
    assert _dump(st) == before


def test_layout_of_another_department_refused_unless_confirmed(st, home):
    assert _ingest(st, HOMERTON.read_bytes(), HOMERTON.name, home).department == "RQXM1"
    before = _dump(st)
    with pytest.raises(FileRejected) as exc:
        _ingest(st, HOMERTON.read_bytes(), "upload.csv", home, department="RJ122")
    assert "RQXM1" in str(exc.value) and "RJ122" in str(exc.value) and exc.value.field == "layout"
    assert _dump(st) == before


def test_version_dropping_most_rows_needs_confirmation(st, home):
    full = RJ122_MARCH.read_bytes()
    first = _ingest(st, full, RJ122_MARCH.name, home)
    lines = full.decode("utf-8-sig").splitlines()
    small = "\n".join(lines[:6]).encode()  # 5 of the month's rows
    before = _dump(st)
    with pytest.raises(ConfirmationRequired) as exc:
        _ingest(st, small, RJ122_MARCH.name, home)
    assert str(first.rows_accepted) in str(exc.value) and exc.value.field == "confirm_replace"
    assert _dump(st) == before
    res = _ingest(st, small, RJ122_MARCH.name, home, confirm_replace=True)
    assert res.status == "stored" and res.version == 2
    assert res.replaces and "version 1" in res.replaces and str(first.rows_accepted) in res.replaces
    assert "replaces RJ122 2025-03 version 1" in res.message


def test_layout_change_needs_confirmation():
    from istvhub.ingest.identity import Previous, replacement_reason

    prev = Previous("2025-02", 1, 150, "istv_mds", same_month=False)
    assert "layout changed" in replacement_reason(prev, 150, "legacy_pas")
    assert replacement_reason(prev, 10, "istv_mds") is None  # a quiet month is no replacement
    same = Previous("2025-03", 1, 150, "istv_mds", same_month=True)
    assert "150" in replacement_reason(same, 20, "istv_mds")
    assert replacement_reason(same, 120, "istv_mds") is None


# --------------------------------------------------------------------------- point 6


def _cell(st, dept: str, period: str) -> dict:
    inp = read_inputs(st.engine)
    rep = compliance_report(
        inp.departments, inp.submissions, inp.record_stats, start=period, end=period,
        rules=load_rules(),
    )  # fmt: skip
    cells = rep.cells
    row = cells[(cells["department"] == dept) & (cells["period"] == period)].iloc[0]
    return row.to_dict()


def test_header_only_file_is_a_nil_return_received_on_time(st, home):
    header = MDS.decode("utf-8-sig").splitlines()[0] + "\n"
    on_time = datetime(2025, 4, 10, 12, tzinfo=UTC)
    res = _ingest(st, header.encode(), "RJ122_2025-03.csv", home, received_at=on_time)
    assert res.status == "stored" and res.rows_accepted == 0 and res.adapter == "nil"
    assert "0 records" in res.message
    cell = _cell(st, "RJ122", "2025-03")
    assert cell["status"] == "received" and cell["on_time"] is True
    assert cell["rag"] != "red"
    # without a department or period anywhere it cannot be filed
    with pytest.raises(FileRejected):
        _ingest(st, header.encode(), "empty.csv", home)


def test_nil_return_api_level_and_not_over_real_data(st, home):
    res = ingest_nil(st, department="RJZ01", period="2025-02")
    assert res.status == "stored" and res.version == 1
    assert ingest_nil(st, department="RJZ01", period="2025-02").status == "unchanged"
    _ingest(st, MDS, "RJ122_2025-03.csv", home)
    with pytest.raises(ConfirmationRequired):
        ingest_nil(st, department="RJ122", period="2025-03")
    with pytest.raises(FileRejected):
        ingest_nil(st, department="RJ122", period="2031-01")


def test_cli_nil_and_confirm_replace(db_url, tmp_path):
    env = {**os.environ, "ISTVHUB_HOME": str(tmp_path / "h"), "ISTVHUB_DB": db_url}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "istvhub", *args],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
        )  # fmt: skip

    r = cli("ingest", "--nil", "--department", "RJ122", "--period", "2025-02")
    assert r.returncode == 0, r.stderr
    assert "nil return, 0 records" in r.stdout
    assert cli("ingest", "--nil", "--department", "RJ122").returncode == 2
    full = tmp_path / RJ122_MARCH.name
    full.write_bytes(RJ122_MARCH.read_bytes())
    assert cli("ingest", "--no-geocode", str(full)).returncode == 0
    full.write_bytes(b"\n".join(RJ122_MARCH.read_bytes().splitlines()[:4]))
    r = cli("ingest", "--no-geocode", str(full))
    assert r.returncode == 2 and "--confirm-replace" in r.stderr
    r = cli("ingest", "--no-geocode", "--confirm-replace", str(full))
    assert r.returncode == 0 and "replaces RJ122 2025-03 version 1" in r.stdout
    st = open_store(db_url)
    with st.engine.connect() as c:
        n = c.execute(sa.select(sa.func.count()).select_from(S.submissions)).scalar()
    st.dispose()
    assert n == 3
    assert hashlib  # (imported for fixtures elsewhere)


# --------------------------------------------------------------------------- point 3: windows


def test_default_window_is_the_latest_complete_month_not_one_odd_upload():
    from istvhub.compliance.window import default_window, latest_complete_period

    rows = []
    for dep in ("RJ122", "RJZ01", "RQXM1", "R1H12"):
        for m in range(1, 10):  # 2025-01..09, each sent on the 5th of the next month
            rows.append((dep, f"2025-{m:02d}", f"2025-{m + 1:02d}-05T10:00:00+00:00"))
    subs = pd.DataFrame(rows, columns=["department", "period", "received_at"])
    now = datetime(2025, 11, 25, tzinfo=UTC)  # 2025-10 is due 2025-11-20
    assert latest_complete_period(subs, now) == "2025-09"
    odd = pd.concat(
        [
            subs,
            pd.DataFrame(
                [
                    ("RJ122", "2025-10", "2025-11-02T10:00:00+00:00"),  # one ED on time
                    ("RJZ01", "2025-11", "2025-11-24T10:00:00+00:00"),  # not due yet
                ],
                columns=subs.columns,
            ),
        ]
    )
    assert latest_complete_period(odd, now) == "2025-09"
    assert default_window(odd, now) == ("2024-10", "2025-09")
    late = subs.assign(received_at="2026-12-01T00:00:00+00:00")  # back-filled history
    assert latest_complete_period(late, datetime(2026, 12, 3, tzinfo=UTC)) == "2025-09"
    assert latest_complete_period(subs.iloc[:0], now) is None


def test_default_window_quorum_is_a_setting(monkeypatch):
    """2025-09 sent on time by 2 of the 4 departments that sent every earlier month: complete at
    the default quorum (half), not when the setting asks for three quarters."""
    from istvhub.compliance.window import default_window, latest_complete_period
    from istvhub.core.config import get_settings

    rows = [
        (dep, f"2025-{m:02d}", f"2025-{m + 1:02d}-05T10:00:00+00:00")
        for dep in ("RJ122", "RJZ01", "RQXM1", "R1H12")
        for m in range(1, 10)
        if m < 9 or dep in ("RJ122", "RJZ01")
    ]
    subs = pd.DataFrame(rows, columns=["department", "period", "received_at"])
    now = datetime(2025, 11, 25, tzinfo=UTC)
    get_settings.cache_clear()
    try:
        assert latest_complete_period(subs, now) == "2025-09"
        monkeypatch.setenv("ISTVHUB_COMPLETE_MONTH_QUORUM", "0.75")
        get_settings.cache_clear()
        assert latest_complete_period(subs, now) == "2025-08"
        assert default_window(subs, now) == ("2024-09", "2025-08")
        assert latest_complete_period(subs, now, quorum_share=0.5) == "2025-09"
        monkeypatch.setenv("ISTVHUB_COMPLETE_MONTH_QUORUM", "1.5")  # not a share: refused
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="complete_month_quorum"):
            latest_complete_period(subs, now)
    finally:
        monkeypatch.delenv("ISTVHUB_COMPLETE_MONTH_QUORUM", raising=False)
        get_settings.cache_clear()


def test_cli_layout_of_another_department_over_a_stored_month(db_url, tmp_path):
    """Issue 14.4 through the CLI on a real database: Homerton's layout filed as RJ122's stored
    January exits 2 naming both departments, supersedes nothing, and needs --confirm-replace."""
    env = {**os.environ, "ISTVHUB_HOME": str(tmp_path / "h"), "ISTVHUB_DB": db_url}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "istvhub", "ingest", "--no-geocode", *args],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
        )  # fmt: skip

    assert cli(str(HOMERTON)).returncode == 0
    january = FEEDS / "RJ122" / "RJ122_2025-01.csv"
    assert cli(str(january)).returncode == 0
    st = open_store(db_url)
    before = _dump(st)
    wrong = tmp_path / january.name
    wrong.write_bytes(HOMERTON.read_bytes())
    r = cli(str(wrong))
    assert r.returncode == 2
    assert "RQXM1" in r.stderr and "RJ122" in r.stderr and "--confirm-replace" in r.stderr
    assert _dump(st) == before
    r = cli("--confirm-replace", str(wrong))
    assert r.returncode == 0, r.stderr
    assert "replaces RJ122 2025-01 version 1" in r.stdout
    subs = st.submissions()
    st.dispose()
    mine = subs[(subs["department"] == "RJ122") & (subs["period"] == "2025-01")]
    assert sorted(mine["status"]) == ["current", "superseded"]
