"""Issue 14 through the API on both backends: adapters by registered name only, 409 for an
unconfirmed replacement, nil returns counted received and on time, future periods refused, a
file of another department refused naming both codes, private upload files removed after every
request and at start-up."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from istvhub.api.app import create_app
from istvhub.api.upload import clean_uploads

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "sample_feeds"
MARCH = FEEDS / "RJ122" / "RJ122_2025-03.csv"
HOMERTON = FEEDS / "RQXM1" / "RQXM1_2025-01.csv"


def _post(hub, who: str, data: bytes, name: str, **fields):
    return hub.client.post(
        "/submissions",
        headers=hub.h(who),
        files={"file": (name, data, "text/csv")},
        data=fields,
    )


def test_adapter_by_registered_name_only(hub):
    data = MARCH.read_bytes()
    answers = []
    for value in (
        f"mapping:{REPO / 'pyproject.toml'}",  # exists, not a layout: once gave 201
        f"mapping:{REPO / 'src' / 'istvhub' / 'ingest' / 'layouts' / 'istv_mds.toml'}",
        "mapping:/nonexistent/layout.toml",
        "mapping:/etc/passwd",
        "no_such_layout",
        "../../istv_mds",
    ):
        r = _post(hub, "ed", data, MARCH.name, adapter=value)
        answers.append((r.status_code, r.json()["detail"]))
        assert "/" not in r.text.replace("</", "")  # no path echoed
    assert len(set(answers)) == 1 and answers[0][0] == 422
    assert hub.store.submissions().empty
    ok = _post(hub, "ed", data, MARCH.name, adapter="istv_mds")
    assert ok.status_code == 201 and ok.json()["adapter"] == "istv_mds"


def test_unconfirmed_replacement_is_409_then_confirmed_and_reported(hub):
    full = MARCH.read_bytes()
    first = _post(hub, "ed", full, MARCH.name)
    assert first.status_code == 201
    small = b"\n".join(full.splitlines()[:5])
    r = _post(hub, "ed", small, MARCH.name)
    assert r.status_code == 409 and "confirm_replace" in r.json()["detail"]
    assert r.json()["field"] == "confirm_replace"
    assert len(hub.store.submissions()) == 1
    r = _post(hub, "ed", small, MARCH.name, confirm_replace="true")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == 2 and "version 1" in body["replaces"]
    again = _post(hub, "ed", small, MARCH.name, confirm_replace="true")
    assert again.status_code == 200 and "identical to version 2" in again.json()["message"]


def test_another_departments_file_refused_naming_both(hub):
    r = _post(hub, "ed", HOMERTON.read_bytes(), HOMERTON.name)  # defaults to RJ122
    assert r.status_code == 422
    assert "RQXM1" in r.json()["detail"] and "RJ122" in r.json()["detail"]
    assert hub.store.submissions().empty


@pytest.mark.parametrize("period", ["2030-01", "1999-12"])
def test_implausible_period_refused(hub, period):
    data = MARCH.read_bytes().replace(b"2025-03", period.encode())
    r = _post(hub, "ed", data, f"RJ122_{period}.csv")
    assert r.status_code == 422 and r.json()["field"] == "Reporting_Period_Start_Date"
    r = hub.client.post(
        "/submissions/nil", headers=hub.h("ed"), json={"period": period}
    )  # fmt: skip
    assert r.status_code == 422


def test_nil_return_by_api_and_header_only_file_count_as_received(hub):
    r = hub.client.post("/submissions/nil", headers=hub.h("ed"), json={"period": "2025-02"})
    assert r.status_code == 201, r.text
    assert r.json()["rows_accepted"] == 0 and "0 records" in r.json()["message"]
    again = hub.client.post("/submissions/nil", headers=hub.h("ed"), json={"period": "2025-02"})
    assert again.status_code == 200
    assert (
        hub.client.post(
            "/submissions/nil",
            headers=hub.h("ed"),
            json={"period": "2025-02", "department": "RJZ01"},
        ).status_code
        == 403
    )
    header = MARCH.read_bytes().splitlines()[0] + b"\n"
    r = _post(hub, "ed", header, "RJ122_2025-01.csv")
    assert r.status_code == 201 and r.json()["adapter"] == "nil"
    rep = hub.client.get(
        "/compliance", headers=hub.h("mopac"), params={"from": "2025-01", "to": "2025-02"}
    )
    assert rep.status_code == 200
    cells = [
        c for c in rep.json()["cells"] if c["department"] == "RJ122" and c["period"] >= "2025-01"
    ]
    assert {c["period"]: c["status"] for c in cells} == {
        "2025-01": "received",
        "2025-02": "received",
    }


def test_upload_files_private_and_removed_after_every_request(hub, monkeypatch):
    from istvhub.api.routes import submissions as routes

    seen: dict = {}
    real = routes.run_ingest

    def spy(store, path, **kw):
        seen["file"] = stat.S_IMODE(os.stat(path).st_mode)
        seen["dir"] = stat.S_IMODE(os.stat(path.parent).st_mode)
        seen["root"] = stat.S_IMODE(os.stat(path.parent.parent).st_mode)
        return real(store, path, **kw)

    monkeypatch.setattr(routes, "run_ingest", spy)
    uploads = hub.settings.home / "uploads"
    assert _post(hub, "ed", MARCH.read_bytes(), MARCH.name).status_code == 201
    assert seen == {"file": 0o600, "dir": 0o700, "root": 0o700}
    assert list(uploads.iterdir()) == []
    bad = _post(hub, "ed", b"\x00\x01binary", "x.csv")  # rejected: removed too
    assert bad.status_code == 422 and list(uploads.iterdir()) == []


def test_start_up_removes_what_a_crash_left(hub):
    uploads = hub.settings.home / "uploads"
    uploads.mkdir(exist_ok=True)
    dead = uploads / "999999-abc"  # a worker that no longer runs
    dead.mkdir()
    (dead / "big_RJ122_2025-09.csv").write_bytes(b"x" * 1000)
    (uploads / "tmpold").mkdir()  # an old-style directory from before the fix
    (uploads / "tmpold" / "f.csv").write_bytes(b"x")
    (uploads / "loose.csv").write_bytes(b"x")
    live = uploads / f"{os.getppid()}-inflight"  # a live process's request stays
    live.mkdir()
    with TestClient(create_app(hub.settings)):
        pass
    assert sorted(p.name for p in uploads.iterdir()) == [live.name]
    assert clean_uploads(hub.settings.home) == 0


def test_unknown_location_type_and_shift_jis_are_warnings_in_the_api_report(hub):
    """Issue 14.9 through the API: the upload's "issues" name row and field for the location
    type code "XX" and for the Shift-JIS text, each as a warning in analyst words."""
    lines = MARCH.read_bytes().decode("utf-8-sig").splitlines()[:40]
    head, first, second = lines[0], lines[1].split(","), lines[2].split(",")
    cols = head.split(",")
    first[cols.index("Assault_Location_Type_Code")] = "XX"
    second[cols.index("Assault_Location_Description")] = "東京駅の前 outside the cafe"
    body = "\n".join([head, ",".join(first), ",".join(second), *lines[3:]]) + "\n"
    r = _post(hub, "ed", body.encode("shift_jis"), MARCH.name)
    assert r.status_code == 201, r.text
    rep = {(i["row"], i["field"]): i["reason"] for i in r.json()["issues"]}
    xx = rep[(1, "Assault_Location_Type_Code")]
    assert xx.startswith("warning: Row 1 (line 2 in your file): location type code not recognised")
    sj = rep[(2, "Assault_Location_Description")]
    assert sj.startswith("warning: Row 2 (line 3 in your file): ") and "not UTF-8" in sj
    assert r.json()["rows_accepted"] == len(lines) - 1


def test_another_departments_layout_over_a_stored_month_needs_the_tick(hub):
    """Issue 14.4 on a real database: RJ122's January is stored, then a file in Homerton's layout
    (legacy_pas, which only RQXM1 sends) is filed as RJ122's January. Without the tick it is
    refused naming both departments and the layout field, and nothing stored is superseded;
    with the tick it becomes version 2 and the answer says what it replaces."""
    from istvhub.ingest.core import ingest_bytes

    ingest_bytes(HOMERTON.read_bytes(), HOMERTON.name, hub.store, geocode=False,
                 home=hub.settings.home)  # fmt: skip
    january = FEEDS / "RJ122" / "RJ122_2025-01.csv"
    first = _post(hub, "ed", january.read_bytes(), january.name)
    assert first.status_code == 201, first.text
    before = hub.store.dump_tables(["submissions", "records"])
    r = _post(hub, "ed", HOMERTON.read_bytes(), january.name)
    assert r.status_code in (409, 422), r.text
    body = r.json()
    assert body["field"] == "layout" and "RQXM1" in body["detail"] and "RJ122" in body["detail"]
    assert "confirm_replace" in body["detail"]
    assert hub.store.dump_tables(["submissions", "records"]) == before
    ok = _post(hub, "ed", HOMERTON.read_bytes(), january.name, confirm_replace="true")
    assert ok.status_code == 201, ok.text
    assert ok.json()["version"] == 2 and "version 1" in ok.json()["replaces"]
    subs = hub.store.submissions()
    mine = subs[(subs["department"] == "RJ122") & (subs["period"] == "2025-01")]
    assert sorted(mine["status"]) == ["current", "superseded"]
