"""No record text, token or personal datum in any log line (issue 8, point 5).

The suite-wide capture lives in ``tests/conftest.py`` (every test's logs are checked in its
teardown, the rest at session end); these tests prove the capture and the checker work, and run
the paths most likely to leak (ingest with personal data in free text, failed sign-ins, uploads,
record reads) with our loggers at DEBUG.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from istvhub.api import users
from istvhub.api.app import create_app
from istvhub.api.deps import open_app_store
from istvhub.core.config import Settings
from istvhub.ingest.core import ingest_file
from istvhub.ingest.pii import nhs_check_digit

FEED = Path(__file__).resolve().parents[1] / "sample_feeds" / "RJ122" / "RJ122_2025-01.csv"


def _valid_nhs() -> str:
    for n in range(100_000_000, 100_001_000):
        d = nhs_check_digit(str(n))
        if d is not None:
            return f"{n}{d}"
    raise AssertionError("no valid NHS number found")


def test_capture_is_installed_and_sees_our_debug_lines(log_capture):
    handler, _ = log_capture
    assert handler in logging.getLogger().handlers
    start = len(handler.lines)
    logging.getLogger("istvhub.tests").debug("capture probe %d", 42)
    assert handler.lines[start:] == ["istvhub.tests: capture probe 42"]


def test_checker_finds_each_kind_and_passes_clean_lines(log_capture):
    _, leaks = log_capture
    nhs = _valid_nhs()
    spaced = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    assert leaks([f"row 3 text {nhs}"]) == ["line 0: NHS-number-like token"]
    assert leaks([f"patient {spaced} seen"]) == ["line 0: NHS-number-like token"]
    assert leaks(["auth failed for istv_" + "A" * 43]) == ["line 0: API token"]
    assert leaks(["geocoding 'OPP THE GREENCOAT BOY' failed"]) == ["line 0: sample location text"]
    clean = [
        "stored RJ122 2025-01 version 2 (supersedes version 1)",
        "RJ122_2025-01.csv row 12 field Assault_Location_Description: NHS-number-like "
        "token scrubbed",
        "warm-up skipped: OSError",
        "took 1234567890 ns",
    ]
    assert leaks(clean) == []


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG, logger="istvhub")
    caplog.set_level(logging.INFO, logger="uvicorn")
    caplog.set_level(logging.INFO, logger="fastapi")
    return caplog


def test_ingest_with_personal_data_in_text_logs_none_of_it(
    db_url, tmp_path, log_capture, debug_logs
):
    handler, leaks = log_capture
    start = len(handler.lines)
    nhs = _valid_nhs()
    lines = FEED.read_text(encoding="utf-8-sig").splitlines()
    # personal data in free text: an NHS number and a phone number beside a location
    head, rows = lines[0], lines[1:40]
    rows[3] = rows[3].replace("opp the greencoat boy", f"opp the greencoat boy {nhs}")
    rows[5] = rows[5].rsplit(",", 5)[0] + ",broken bottle,02,call 07700 900123 re flat,35-44,1"
    f = tmp_path / "RJ122_2025-01.csv"
    f.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    from istvhub.store import open_store

    store = open_store(db_url)
    res = ingest_file(f, store, geocode=False, uploaded_by="tester")
    assert res.status == "stored", res.message
    # the bad cases: a file rejected for a personal-data column, and a re-upload
    bad = tmp_path / "RJ122_2025-02.csv"
    bad.write_text(
        "NHS_Number,Arrival_Date,Location\n" + nhs + ",2025-02-03,o/s tesco\n", encoding="utf-8"
    )
    assert ingest_file(bad, store, geocode=False).status == "rejected"
    ingest_file(f, store, geocode=False)
    store.dispose()
    new = handler.lines[start:]
    assert leaks(new) == []
    assert nhs not in "\n".join(new)


def test_api_failures_and_record_reads_log_no_token_or_text(tmp_path, log_capture, debug_logs):
    handler, leaks = log_capture
    start = len(handler.lines)
    settings = Settings(home=tmp_path / "home", db=f"sqlite:///{tmp_path / 'h.db'}")
    settings.home.mkdir()
    store = open_app_store(settings)
    _, tok = users.add_user(store.engine, "ed-1", "ed_analyst", departments=["RJ122"])
    with TestClient(create_app(settings)) as client:
        h = {"Authorization": f"Bearer {tok}"}
        for bad in (tok[:-1] + "x", "istv_" + "B" * 43, "not-a-token"):
            assert client.get("/me", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
        r = client.post(
            "/submissions",
            headers=h,
            files={"file": ("RJ122_2025-01.csv", FEED.read_bytes(), "text/csv")},
        )
        assert r.status_code == 201, r.text
        sid = r.json()["submission_id"]
        assert client.get(f"/submissions/{sid}/records", headers=h).status_code == 200
        assert client.get(f"/submissions/{sid}/report?format=csv", headers=h).status_code == 200
    store.dispose()
    new = handler.lines[start:]
    assert leaks(new) == []
    assert tok not in "\n".join(new)
