"""Issue 14 point 4 through the routes, on both backends: the default period of compliance, the
hot-block layers and the map ends at the latest *complete* month. One department's odd upload
of a later month (sent late) or of a month not yet due does not move what MOPAC or a CSP sees
first; asking for a period explicitly still gives it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pandas as pd

from istvhub.compliance.deadlines import due_at
from istvhub.core.periods import current_period, month_add, month_range
from istvhub.records import make_record_id
from istvhub.store import schema as S

DEPTS = ("RJ122", "RJZ01", "RQXM1")


def _submit(hub, dept: str, period: str, received_at: datetime, n: int = 3) -> None:
    rows = pd.DataFrame(
        {
            "record_id": [make_record_id(dept, f"{period}-{i}") for i in range(n)],
            "department": dept,
            "period": period,
            "source_row": range(1, n + 1),
            "arrival_at": pd.Timestamp(f"{period}-05 22:10"),
            "location_type": "street",
            "weapon": "sharp",
            "age_band": "18-24",
            "sex": "male",
            "geo_status": "unmatched",
        }
    )
    hub.store.store_submission(
        department=dept,
        period=period,
        file_sha256=hashlib.sha256(f"{dept}{period}".encode()).hexdigest(),
        source_filename=f"{dept}_{period}.csv",
        adapter="test",
        records=rows,
        uploaded_by="test",
        received_at=received_at,
    )


def _history_and_odd_uploads(hub) -> str:
    """Three departments send 2025-01..2025-03 on time; then RJ122 alone sends 2025-08 a year
    late and the month just ended (not yet due), and a 2030-01 month sits in the database as an
    older release stored it. Returns the month the window must end at."""
    for period in ("2025-01", "2025-02", "2025-03"):
        on_time = due_at(period) - timedelta(days=3)
        for dept in DEPTS:
            _submit(hub, dept, period, on_time)
    now = datetime.now(UTC)
    _submit(hub, "RJ122", "2025-08", now)
    _submit(hub, "RJ122", month_add(current_period(), -1), now)
    legacy = {"version": 1, "status": "current", "received_at": now}
    with hub.store.engine.begin() as c:  # a 2030 month stored before future periods were refused
        c.execute(
            S.submissions.insert().values(
                department="RJ122", period="2030-01", file_sha256="0" * 64,
                source_filename="RJ122_2030-01.csv", adapter="istv_mds", rows_total=5,
                rows_accepted=5, **legacy,
            )
        )  # fmt: skip
    assert "2030-01" in set(hub.store.submissions()["period"])
    return "2025-03"


def test_compliance_default_window_ignores_odd_months(hub):
    end = _history_and_odd_uploads(hub)
    r = hub.client.get("/compliance", headers=hub.h("mopac"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["summary"]["from"], body["summary"]["to"]) == (month_add(end, -11), end)
    assert {c["period"] for c in body["cells"]} <= set(month_range(month_add(end, -11), end))
    r = hub.client.get("/compliance?format=csv", headers=hub.h("mopac"))
    assert f"compliance-{month_add(end, -11)}-{end}.csv" in r.headers["content-disposition"]
    # asked for, the odd month is shown
    r = hub.client.get("/compliance?from=2025-08&to=2025-08", headers=hub.h("mopac"))
    assert r.json()["summary"]["to"] == "2025-08"


def test_layers_and_map_default_period_ignore_odd_months(geo_hub):
    end = _history_and_odd_uploads(geo_hub)
    start = month_add(end, -11)
    r = geo_hub.client.get("/layers/hotblocks?format=csv&layer=blocks", headers=geo_hub.h("csp"))
    assert r.status_code == 200, r.text
    assert f"hotblocks_{start}_{end}_blocks.csv" in r.headers["content-disposition"]
    r = geo_hub.client.get("/map", headers=geo_hub.h("csp") | {"accept": "text/html"})
    assert r.status_code == 200
    assert f'value="{end}"' in r.text and f'value="{start}"' in r.text
    assert f'data-from="{start}" data-to="{end}"' in r.text
    assert 'value="2025-08"' not in r.text
    r = geo_hub.client.get("/layers/hotblocks?format=geojson", headers=geo_hub.h("csp"))
    assert r.status_code == 200, r.text
    assert f"hotblocks_{start}_{end}" in r.headers["content-disposition"]
