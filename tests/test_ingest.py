"""Ingest end to end on SQLite and PostgreSQL: rejections change nothing, re-uploads supersede,
identical re-uploads are no-ops, no NHS number reaches any table, and the CLI contract."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from istvhub.ingest.core import ingest_bytes, ingest_file
from istvhub.store import open_store
from istvhub.store import schema as S

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"
REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_feeds"
NHS = (FIX / "fake_nhs_numbers.txt").read_text().split()


def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "istvhub", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )


@pytest.mark.parametrize(
    "fixture, kw, field",
    [
        ("RJZ01_ecds_pii_2025-04.csv", {}, "NHS_Number"),
        ("RJ122_mds_2025-03.csv", {"department": "RJZ01"}, "Site_Code_of_Treatment"),
        ("RJ122_mds_2025-03.csv", {"period": "2025-04"}, "Reporting_Period_Start_Date"),
        ("RJ701_unseen_2025-07.csv", {"department": "ZZZ99"}, "Hospital Code"),
    ],
)
def test_rejected_file_leaves_store_unchanged(db_url, fixture, kw, field):
    st = open_store(db_url)
    ok = ingest_file(FIX / "RJZ01_ecds_2025-04.csv", st, geocode=False)
    assert ok.status == "stored"
    before = st.dump_tables()
    res = ingest_file(FIX / fixture, st, geocode=False, **kw)
    assert res.status == "rejected"
    assert fixture in res.message and repr(field) in res.message
    assert st.dump_tables() == before
    st.dispose()


def test_unknown_department_rejected(db_url):
    st = open_store(db_url)
    before = st.dump_tables()
    data = (FIX / "RJ701_unseen_2025-07.csv").read_bytes().replace(b"RJ701", b"XYZ01")
    res = ingest_file_bytes(data, "x.csv", st)
    assert res.status == "rejected" and "registry" in res.message
    assert st.dump_tables() == before
    st.dispose()


def ingest_file_bytes(data: bytes, name: str, st):
    from istvhub._errors import FileRejected
    from istvhub.ingest.core import IngestResult

    try:
        return ingest_bytes(data, name, st, geocode=False)
    except FileRejected as exc:
        return IngestResult(file=name, status="rejected", message=str(exc))


def test_unparseable_files_rejected(db_url, tmp_path):
    st = open_store(db_url)
    before = st.dump_tables()
    for name, data in [
        ("empty.csv", b""),
        ("binary.csv", b"\x00\x01\x02" * 100),
        ("noheader.csv", b"a,b,c\n1,2,3\n"),
        ("broken.xlsx", b"PK\x03\x04garbage"),
    ]:
        res = ingest_file_bytes(data, name, st)
        assert res.status == "rejected", name
    assert st.dump_tables() == before
    st.dispose()


def test_reupload_supersedes_and_identical_is_noop(db_url):
    st = open_store(db_url)
    first = ingest_file(FIX / "RJZ01_ecds_2025-04.csv", st, geocode=False)
    assert (first.status, first.version, first.rows_accepted, first.rows_skipped) == (
        "stored",
        1,
        2,
        2,
    )
    before = st.dump_tables()
    again = ingest_file(FIX / "RJZ01_ecds_2025-04.csv", st, geocode=False)
    assert again.status == "unchanged" and again.version == 1
    assert "nothing changed" in again.message
    assert st.dump_tables() == before
    second = ingest_file(FIX / "RJZ01_ecds_leak_2025-04.csv", st, geocode=False)
    assert (second.status, second.version, second.superseded_version) == ("stored", 2, 1)
    subs = st.submissions("RJZ01")
    assert list(subs["status"]) == ["superseded", "current"]
    cur = st.current_records("RJZ01")
    assert len(cur) == 3 and (cur["submission_id"] == second.submission_id).all()
    st.dispose()


def test_record_ids_stable_across_versions(db_url):
    st = open_store(db_url)
    ingest_file(FIX / "RJ122_mds_2025-03.csv", st, geocode=False)
    ids1 = set(st.current_records("RJ122")["record_id"])
    data = (FIX / "RJ122_mds_2025-03.csv").read_bytes().replace(b"maccys", b"mcdonalds")
    res = ingest_bytes(data, "RJ122_mds_2025-03_v2.csv", st, geocode=False)
    assert res.version == 2
    cur = st.current_records("RJ122")
    assert set(cur["record_id"]) == ids1
    assert "o/s mcdonalds brixton rd" in set(cur["location_text"])
    st.dispose()


def _all_text(st) -> list[str]:
    out: list[str] = []
    with st.engine.connect() as c:
        for t in S.metadata.sorted_tables:
            for row in c.execute(sa.select(t)):
                out.extend(str(v) for v in row if v is not None)
    return out


def test_no_nhs_number_reaches_any_table(db_url):
    st = open_store(db_url)
    assert ingest_file(FIX / "RJZ01_ecds_pii_2025-04.csv", st, geocode=False).status == "rejected"
    leak = ingest_file(FIX / "RJZ01_ecds_leak_2025-04.csv", st, geocode=False)
    assert leak.status == "stored" and leak.rows_accepted == 3
    assert leak.pii_scrubbed == 5  # three NHS numbers, a phone number and a date of birth
    warned = [
        (r["row"], r["field"])
        for r in leak.report_rows()
        if r["reason"].startswith("warning: Row ") and ": identifier removed" in r["reason"]
    ]
    assert warned == [(i, "Assault_Location_Description") for i in (1, 2, 3)]
    blob = "\n".join(_all_text(st))
    digits_only = re.sub(r"\D", "", blob)
    for n in NHS:
        assert n not in digits_only
    assert "07700" not in blob and "1988" not in blob
    assert "Testperson" not in blob and "SW1A" not in blob
    cur = st.current_records("RJZ01")
    assert "outside kfc nhs [removed] brixton rd" in set(cur["location_text"])
    st.dispose()


def test_quarantine_names_row_and_field_never_value(db_url):
    st = open_store(db_url)
    res = ingest_file(FIX / "RJ122_mds_2025-03.csv", st, geocode=False)
    assert (res.rows_accepted, res.rows_quarantined) == (3, 1)
    q = st.quarantine(res.submission_id)
    assert list(q["source_row"]) == [3]
    assert list(q["field"]) == ["Arrival_Date"]
    assert "2025-03-32" not in q["reason"].iloc[0]
    sub = st.submissions("RJ122").iloc[0]
    assert (sub["rows_total"], sub["rows_accepted"], sub["rows_quarantined"]) == (4, 3, 1)
    st.dispose()


def test_sample_feeds_reupload_and_bad_dates(tmp_path):
    """The generator's fault files: a re-upload supersedes, bad dates are quarantined."""
    if not (SAMPLES / "manifest.csv").is_file():
        pytest.skip("sample feeds not generated")
    st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    man = pd.read_csv(SAMPLES / "manifest.csv", dtype=str, keep_default_na=False)
    for r in man[man["department"].isin(["RJZ01", "RJ122"])].itertuples():
        res = ingest_file(SAMPLES / r.file, st, geocode=False)
        assert res.status == "stored", res.message
        assert res.department == r.department and res.period == r.period
    subs = st.submissions("RJZ01")
    june = subs[subs["period"] == "2025-06"]
    assert list(june["status"]) == ["superseded", "current"]
    bad = st.submissions("RJ122")
    assert int(bad.loc[bad["period"] == "2025-07", "rows_quarantined"].iloc[0]) == 6
    st.dispose()


def test_geocode_skipped_without_gazetteer(db_url, home):
    from istvhub.geocode.shared import shared_geocoder

    st = open_store(db_url)
    assert shared_geocoder(home, st.url) is None  # no gazetteer built under this home
    res = ingest_file(FIX / "RJ122_mds_2025-03.csv", st, geocoder=shared_geocoder(home, st.url))
    assert res.status == "stored" and res.geocoded == 0
    assert st.current_records()["geo_status"].isna().all()
    st.dispose()


def test_geocode_hook_stores_results(db_url):
    """The caller's geocoder's GEOCODE_COLUMNS and version are stored with the records."""
    from istvhub.records import GEOCODE_COLUMNS

    class FakeGeocoder:
        version = "test-gaz-1"

        def geocode_frame(self, df, text_col="location_text", department_col="department"):
            out = pd.DataFrame(index=df.index, columns=list(GEOCODE_COLUMNS))
            home = df[text_col].fillna("").str.contains("home")
            out["geo_status"] = ["home" if h else "unmatched" for h in home]
            out["lat"] = None
            return out

    st = open_store(db_url)
    res = ingest_file(FIX / "RJ122_mds_2025-03.csv", st, geocoder=FakeGeocoder())
    assert res.geocoded == 3
    cur = st.current_records()
    assert sorted(cur["geo_status"]) == ["home", "unmatched", "unmatched"]
    assert set(cur["gazetteer_version"]) == {"test-gaz-1"}
    assert cur["geocoded_at"].notna().all()
    st.dispose()


def test_cli_exit_codes_report_and_json(tmp_path, db_url):
    rep = tmp_path / "report.csv"
    ok = _cli(
        "ingest",
        str(FIX / "RJ122_mds_2025-03.csv"),
        "--db",
        db_url,
        "--no-geocode",
        "--report",
        str(rep),
        "--json",
    )
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out[0]["status"] == "stored" and out[0]["rows_quarantined"] == 1
    with open(rep, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["file"] == "RJ122_mds_2025-03.csv"
    assert (rows[0]["row"], rows[0]["field"]) == ("3", "Arrival_Date")

    bad = _cli("ingest", str(FIX / "RJZ01_ecds_pii_2025-04.csv"), "--db", db_url, "--no-geocode")
    assert bad.returncode == 2
    assert "NHS_Number" in bad.stderr and "rejected" in bad.stderr

    subs = _cli("submissions", "--db", db_url, "--json")
    assert subs.returncode == 0
    listed = json.loads(subs.stdout)
    assert [(s["department"], s["period"], s["version"]) for s in listed] == [
        ("RJ122", "2025-03", 1)
    ]


def test_cli_several_files_one_rejected(db_url):
    res = _cli(
        "ingest",
        str(FIX / "RQXM1_pas_2025-05.csv"),
        str(FIX / "RJZ01_ecds_pii_2025-04.csv"),
        str(FIX / "R1K12_ucc_2025-06.xlsx"),
        "--db",
        db_url,
        "--no-geocode",
        "--adapter",
        "generic",
    )
    assert res.returncode == 2
    assert "RJZ01_ecds_pii_2025-04.csv" in res.stderr and "1 of 3" in res.stderr
    st = open_store(db_url)
    subs = st.submissions()
    # department from the file name; the forced generic layout still maps both files
    assert sorted(zip(subs["department"], subs["adapter"], strict=True)) == [
        ("R1K12", "generic"),
        ("RQXM1", "generic"),
    ]
    cur = st.current_records()
    assert set(cur["weapon"]) >= {"sharp", "body_part", "glass"}
    st.dispose()


def test_department_from_title_row_or_file_name(tmp_path):
    """No site column and no --department: the site named in the title rows, else an ODS code
    in the file name; a file naming neither is rejected with the reason."""
    sample = SAMPLES / "R1K12" / "R1K12_2025-04.xlsx"
    if not sample.is_file():
        pytest.skip("sample feeds not generated")
    st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    res = ingest_bytes(sample.read_bytes(), "ucc_export_april.xlsx", st, geocode=False)
    assert (res.status, res.department, res.period) == ("stored", "R1K12", "2025-04")
    pas = (FIX / "RQXM1_pas_2025-05.csv").read_bytes()
    assert ingest_bytes(pas, "RQXM1_pas_2025-05.csv", st, geocode=False).department == "RQXM1"
    r = ingest_file_bytes(pas, "pas_export.csv", st)
    assert r.status == "rejected" and "department" in r.message
    st.dispose()
