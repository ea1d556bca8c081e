"""Equality and feedback through the API with the role rules: CSP own boroughs only, MOPAC any
scope, ED analyst own department only; every count suppressed; feedback free text only to the
department's own ED analyst (and admin), audited."""

from __future__ import annotations

import hashlib
from datetime import datetime
from io import StringIO

import pandas as pd
import pytest

from istvhub.records import make_record_id

# as in tests/api/conftest.py: the fixture users' department and borough
OWN_DEPT, OTHER_DEPT = "RJ122", "RJZ01"
OWN_BOROUGH, OTHER_BOROUGH = "Westminster", "Camden"

PERIOD = "2025-03"
#: department, borough, age_band, sex, text, geo_status, match_type, n
SPEC = [
    (OWN_DEPT, OWN_BOROUGH, "18-24", "male", "o/s black lion pub", "ambiguous", "venue", 20),
    (OWN_DEPT, OWN_BOROUGH, "18-24", "female", "commercial rd", "ambiguous", "street", 3),
    (OWN_DEPT, OWN_BOROUGH, "25-34", "male", "soho sq", "located", "street", 12),
    (OWN_DEPT, OTHER_BOROUGH, "25-34", "female", "camden high st", "located", "street", 9),
    (OTHER_DEPT, None, "35-44", "male", "zzother secret place", "unmatched", None, 14),
]


@pytest.fixture
def products(hub):
    for dep in (OWN_DEPT, OTHER_DEPT):
        rows = []
        for d, bor, age, sex, text, status, mt, n in SPEC:
            if d != dep:
                continue
            for _ in range(n):
                i = len(rows)
                rows.append(
                    {
                        "record_id": make_record_id(dep, f"api-{i}"),
                        "department": dep,
                        "period": PERIOD,
                        "source_row": i + 1,
                        "arrival_at": datetime(2025, 3, 1 + i % 27, 23, 0),
                        "location_text": text,
                        "location_type": "street",
                        "weapon": "sharp",
                        "weapon_text": None,
                        "age_band": age,
                        "sex": sex,
                        "geo_status": status,
                        "match_type": mt,
                        "borough": bor if status == "located" else None,
                    }
                )
        hub.store.store_submission(
            department=dep,
            period=PERIOD,
            file_sha256=hashlib.sha256(dep.encode()).hexdigest(),
            source_filename=f"{dep}.csv",
            adapter="test",
            records=pd.DataFrame(rows),
        )
    return hub


def _grand(body: dict) -> dict:
    return next(c for c in body["cells"] if c["age_band"] == "All" and c["sex"] == "All")


def _eq(hub, who: str, **params):
    q = {"from": PERIOD, "to": PERIOD, "by": "age_band,sex", **params}
    return hub.client.get("/equality", params=q, headers=hub.h(who))


def test_equality_csp_own_boroughs_only(products):
    r = _eq(products, "csp")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == f"Borough {OWN_BOROUGH}"
    # located in Westminster: only the 12 at Soho Square (ambiguous records have no borough)
    # 12, perturbed by its cell key (+-2) and rounded: 10 or 15
    assert _grand(body)["count"] in (10, 15) and _grand(body)["suppressed"] is False
    assert _eq(products, "csp", borough=OTHER_BOROUGH).status_code == 403
    assert _eq(products, "csp", department=OWN_DEPT).status_code == 403
    assert _eq(products, "csp", borough=OWN_BOROUGH.upper()).status_code == 200


def test_equality_mopac_london_and_suppression(products):
    r = _eq(products, "mopac")
    assert r.status_code == 200
    body = r.json()
    assert body["scope"] == "London"
    assert _grand(body)["count"] in (55, 60)  # 20 + 3 + 12 + 9 + 14 = 58, +-2, rounded
    cells = {(c["age_band"], c["sex"]): c for c in body["cells"]}
    assert cells[("18-24", "female")]["suppressed"] is True
    assert cells[("18-24", "female")]["count"] is None
    # the 3 would be 23 - 20 from its row: the 20 is hidden with it
    assert cells[("18-24", "male")]["suppressed"] is True
    dep = _eq(products, "mopac", department=OTHER_DEPT).json()
    assert dep["scope"] == f"Department {OTHER_DEPT}"
    csv = _eq(products, "mopac", format="csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(StringIO(csv.text), dtype=str, keep_default_na=False)
    assert df[(df.age_band == "18-24") & (df.sex == "female")]["count"].tolist() == [""]
    page = _eq(products, "mopac", format="html")
    assert page.status_code == 200 and "<table>" in page.text


def test_equality_ed_own_department_only(products):
    r = _eq(products, "ed")
    assert r.status_code == 200 and r.json()["scope"] == f"Department {OWN_DEPT}"
    assert _grand(r.json())["count"] in (40, 45)  # 20 + 3 + 12 + 9 = 44, +-2, rounded
    assert _eq(products, "ed", department=OTHER_DEPT).status_code == 403
    assert _eq(products, "ed", borough=OWN_BOROUGH).status_code == 403


def test_equality_needs_a_token(products):
    r = products.client.get("/equality", params={"from": PERIOD, "to": PERIOD})
    assert r.status_code == 401


def test_feedback_own_department_only(products):
    c, h = products.client, products.h
    r = c.get("/feedback", params={"period": PERIOD, "format": "json"}, headers=h("ed"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["department"] == OWN_DEPT and body["summary"]["records"] == 44
    texts = {t["text"]: t for t in body["texts"]}
    assert texts["o/s black lion pub"]["count"] == 20
    assert texts["o/s black lion pub"]["problem"] == "venue name alone"
    assert "zzother secret place" not in r.text
    # someone else's department, or a role that must not see free text
    assert (
        c.get(
            "/feedback", params={"period": PERIOD, "department": OTHER_DEPT}, headers=h("ed")
        ).status_code
        == 403
    )
    for who in ("csp", "mopac"):
        assert (
            c.get(
                "/feedback", params={"period": PERIOD, "department": OWN_DEPT}, headers=h(who)
            ).status_code
            == 403
        )
    other = c.get("/feedback", params={"period": PERIOD, "format": "csv"}, headers=h("ed_other"))
    assert other.status_code == 200
    assert "zzother secret place" in other.text and "black lion" not in other.text
    adm = c.get("/feedback", params={"period": PERIOD, "department": OWN_DEPT}, headers=h("admin"))
    assert adm.status_code == 200 and "black lion" in adm.text
    log = products.store.audit_log()
    fb = log[log["action"] == "feedback"]
    assert len(fb) == 3 and "black lion" not in " ".join(fb["detail"].astype(str))
