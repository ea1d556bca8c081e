"""`istvhub serve --workers 2`: concurrent uploads across worker processes are each stored once,
and uploads racing on one department-month get distinct versions (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from _server import running_server
from istvhub.api import users
from istvhub.api.deps import open_app_store
from istvhub.core.config import Settings

FEEDS = Path(__file__).resolve().parents[2] / "sample_feeds"
pytestmark = pytest.mark.slow


def test_two_workers_store_every_upload_once(db_url, tmp_path):
    home = tmp_path / "home"  # no gazetteer: ingest stores without geocoding (fast)
    home.mkdir()
    store = open_app_store(Settings(home=home, db=db_url))
    token = users.add_user(store.engine, "ed", "ed_analyst", departments=["RJ122"])[1]
    months = [f"2025-{m:02d}" for m in range(1, 7)]
    with running_server(home, db_url, tmp_path / "serve.log", workers=2) as base:

        def up(path: Path) -> httpx.Response:
            return httpx.post(
                base + "/submissions",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (path.name, path.read_bytes())},
                timeout=120,
            )

        files = [FEEDS / "RJ122" / f"RJ122_{m}.csv" for m in months]
        # every month once, plus the first month again three times at once
        batch = files + [files[0]] * 3
        with ThreadPoolExecutor(len(batch)) as ex:
            res = list(ex.map(up, batch))
        want = {"stored": 201, "unchanged": 200}  # an identical re-upload changes nothing: 200
        assert all(r.status_code == want.get(r.json().get("status")) for r in res), [
            r.text[:200] for r in res
        ]
        statuses = [r.json()["status"] for r in res]
        assert statuses.count("stored") == len(months)
        assert statuses.count("unchanged") == 3
        subs = store.submissions("RJ122")
        assert sorted(subs["period"]) == months
        assert set(subs["version"]) == {1} and set(subs["status"]) == {"current"}
        accepted = {
            r.json()["period"]: r.json()["rows_accepted"]
            for r in res
            if r.json()["status"] == "stored"
        }
        recs = store.current_records("RJ122")
        assert recs.groupby("period").size().to_dict() == accepted
    store.dispose()
