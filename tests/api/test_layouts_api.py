"""Issue 17 through the API, on both backends: a file whose key item has no confident column is
held (422, status needs_mapping, the item named, a mapping proposed, nothing stored); sending the
mapping back with the file stores it and keeps the mapping for the department."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import layout_corpus as LC  # noqa: E402
from istvhub.store.mappings import department_mappings  # noqa: E402


def _post(hub, name, data, **fields):
    return hub.client.post(
        "/submissions",
        headers=hub.h("ed"),
        files={"file": (name, data, "application/octet-stream")},
        data=fields,
    )


def test_held_file_then_mapping_accepted(hub):
    name, data, _w = LC.merged_header_xlsx(LC.base())
    r = _post(hub, name, data)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["status"] == "needs_mapping" and body["missing_items"] == ["location_type"]
    assert "location type" in body["detail"]
    assert hub.store.submissions().empty
    edited = body["proposed_mapping"].replace("absent = []", 'absent = ["location_type"]')
    r = _post(hub, name, data, mapping=edited)
    assert r.status_code == 201, r.text
    res = r.json()
    assert res["status"] == "stored" and res["adapter"].startswith("mapping:rj122_")
    assert {i["item"] for i in res["items"]} >= {"weapon", "sex", "location text"}
    assert len(department_mappings(hub.store, "RJ122")) == 1
