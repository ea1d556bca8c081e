"""/compliance: MOPAC and admin see all departments; ED and CSP analysts are refused."""

from __future__ import annotations

import csv
import io

import pytest

from istvhub.compliance.service import build_report


@pytest.mark.parametrize("who", ["ed", "csp"])
def test_analysts_cannot_read_compliance(hub, who):
    for fmt in ("json", "csv", "html"):
        r = hub.client.get("/compliance", params={"format": fmt}, headers=hub.h(who))
        assert r.status_code == 403


def test_compliance_needs_a_token(hub):
    assert hub.client.get("/compliance").status_code == 401


@pytest.mark.parametrize("who", ["mopac", "admin"])
def test_mopac_sees_every_registry_department(hub, who):
    r = hub.client.get(
        "/compliance", params={"from": "2025-01", "to": "2025-03"}, headers=hub.h(who)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    codes = {d["department"] for d in body["departments"]}
    assert codes == set(hub.store.department_codes())
    assert {c["period"] for c in body["cells"]} == {"2025-01", "2025-02", "2025-03"}
    # the same figures as the CLI's report on the same store
    cli = build_report(hub.settings.db_url, start="2025-01", end="2025-03").to_dict()
    assert body["summary"]["line"] == cli["summary"]["line"]
    key = ("department", "period", "rag")
    assert sorted(tuple(c[k] for k in key) for c in body["cells"]) == sorted(
        tuple(c[k] for k in key) for c in cli["cells"]
    )


def test_compliance_csv_and_html(hub):
    r = hub.client.get(
        "/compliance",
        params={"from": "2025-01", "to": "2025-02", "format": "csv"},
        headers=hub.h("mopac"),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 2 * len(hub.store.department_codes())
    h = hub.client.get(
        "/compliance",
        params={"format": "html", "from": "2025-01", "to": "2025-02"},
        headers=hub.h("mopac"),
    )
    assert h.status_code == 200 and "<table" in h.text and "http://" not in h.text


@pytest.mark.parametrize("params", [{"from": "2025-13"}, {"to": "25-01"}, {"format": "xml"}])
def test_bad_parameters_are_422(hub, params):
    assert hub.client.get("/compliance", params=params, headers=hub.h("mopac")).status_code == 422


def test_to_before_from_is_a_named_field_error(hub):
    r = hub.client.get(
        "/compliance", params={"from": "2025-05", "to": "2025-01"}, headers=hub.h("mopac")
    )
    assert r.status_code == 400 and "'to'" in r.json()["detail"]
