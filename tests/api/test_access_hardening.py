"""Access hardening (issue 8, point 5): hashed tokens compared in constant time, expiry and
revocation, failed-auth rate limiting, an append-only audit of record-level reads that only
admins may read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from istvhub.api import security, users
from istvhub.api.security import FailedAuthLimiter
from istvhub.records import make_record_id
from istvhub.store.schema import api_tokens, audit_log

OWN_DEPT, OTHER_DEPT = "RJ122", "RJZ01"  # as in tests/api/conftest.py

SRC = Path(__file__).resolve().parents[2] / "src" / "istvhub"


def _store_one(hub, dept: str = OWN_DEPT, period: str = "2025-05", n: int = 3) -> int:
    df = pd.DataFrame(
        [
            {
                "record_id": make_record_id(dept, f"k{i}"),
                "department": dept,
                "period": period,
                "source_row": i + 2,
                "arrival_at": pd.Timestamp(f"{period}-0{i + 1} 22:10"),
                "location_text": "outside the Fox pub",
                "location_type": "street",
                "weapon": "body_part",
                "age_band": "18-24",
                "sex": "male",
            }
            for i in range(n)
        ]
    )
    res = hub.store.store_submission(
        department=dept,
        period=period,
        file_sha256=hashlib.sha256(period.encode()).hexdigest(),
        source_filename="may.csv",
        adapter="test",
        records=df,
        uploaded_by="test",
    )
    return res.submission_id


def test_tokens_stored_only_as_digest_and_compared_in_constant_time(hub, monkeypatch):
    with hub.store.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(sa.select(api_tokens.c.token_sha256))]
    for tok in hub.tokens.values():
        assert tok not in stored
        assert security.hash_token(tok) in stored
    # every successful authentication goes through hmac.compare_digest
    calls = []
    real = security.hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    assert users.authenticate(hub.store.engine, hub.tokens["csp"]).name == "csp-lambeth"
    assert calls == [(64, 64)]
    assert hub.client.get("/me", headers=hub.h("admin")).status_code == 200
    assert len(calls) == 2


def test_expired_token_is_401(hub):
    _, tok = users.add_user(hub.store.engine, "short-lived", "mopac", expires_days=1)
    assert hub.client.get("/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    with hub.store.engine.begin() as conn:  # a day later
        conn.execute(
            api_tokens.update()
            .where(api_tokens.c.token_sha256 == security.hash_token(tok))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    r = hub.client.get("/me", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_401_and_other_users_unaffected(hub):
    users.revoke_user(hub.store.engine, "mopac-1")
    assert hub.client.get("/me", headers=hub.h("mopac")).status_code == 401
    assert hub.client.get("/me", headers=hub.h("csp")).status_code == 200


def test_limiter_window_unit():
    now = [1000.0]
    lim = FailedAuthLimiter(limit=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert lim.retry_after("10.0.0.1") == 0
        lim.failed("10.0.0.1")
    assert lim.retry_after("10.0.0.1") > 0
    assert lim.retry_after("10.0.0.2") == 0  # per address
    now[0] += 59
    assert lim.retry_after("10.0.0.1") > 0
    now[0] += 1.5
    assert lim.retry_after("10.0.0.1") == 0


def test_failed_auth_rate_limited_per_client(hub):
    hub.client.app.state.auth_limiter = FailedAuthLimiter(limit=5, window_s=60)
    bad = {"Authorization": "Bearer istv_" + "x" * 43}
    codes = [hub.client.get("/me", headers=bad).status_code for _ in range(5)]
    assert codes == [401] * 5
    r = hub.client.get("/me", headers=bad)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # while blocked even a good token from that address waits (no probing between guesses)
    assert hub.client.get("/me", headers=hub.h("admin")).status_code == 429
    # the sign-in form shares the limit
    assert hub.client.post("/signin", data={"token": "istv_" + "y" * 43}).status_code == 429
    # another address is not blocked
    hub.client.app.state.auth_limiter._fails.clear()
    assert hub.client.get("/me", headers=hub.h("admin")).status_code == 200


def test_missing_token_does_not_count_as_failure(hub):
    hub.client.app.state.auth_limiter = FailedAuthLimiter(limit=2, window_s=60)
    for _ in range(5):
        assert hub.client.get("/me").status_code == 401
    assert hub.client.get("/me", headers=hub.h("admin")).status_code == 200


def _audit_rows(hub) -> list[dict]:
    with hub.store.engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings()
        ]


def test_record_level_reads_are_audited_with_who_and_where(hub):
    sid = _store_one(hub)
    before = len(_audit_rows(hub))
    for path in (
        f"/submissions/{sid}",
        f"/submissions/{sid}/report",
        f"/submissions/{sid}/report?format=csv",
        f"/submissions/{sid}/records",
    ):
        assert hub.client.get(path, headers=hub.h("ed")).status_code == 200, path
    rows = _audit_rows(hub)[before:]
    assert [r["action"] for r in rows] == [
        "submissions.read",
        "submissions.report",
        "submissions.report",
        "submissions.records",
    ]
    for r in rows:
        assert r["actor"] == "ed-own" and r["client"] == "testclient"
        assert f"submission={sid}" in r["detail"] and r["at"] is not None
        assert "Fox" not in r["detail"]  # never record text
    # a refused read (other department's ED) is not a read of record data
    n = len(_audit_rows(hub))
    assert (
        hub.client.get(f"/submissions/{sid}/records", headers=hub.h("ed_other")).status_code == 404
    )
    assert len(_audit_rows(hub)) == n


def test_audit_readable_by_admin_only(hub):
    sid = _store_one(hub)
    hub.client.get(f"/submissions/{sid}/records", headers=hub.h("ed"))
    for who in ("ed", "ed_other", "csp", "mopac"):
        assert hub.client.get("/audit", headers=hub.h(who)).status_code == 403, who
    assert hub.client.get("/audit").status_code == 401
    r = hub.client.get("/audit", headers=hub.h("admin"))
    assert r.status_code == 200
    body = r.json()
    acts = [a["action"] for a in body]
    assert "ingest" in acts and "submissions.records" in acts
    last = body[-1]["id"]
    assert set(body[0]) >= {"id", "at", "actor", "action", "detail", "client"}
    page = hub.client.get(f"/audit?after_id={last - 1}", headers=hub.h("admin")).json()
    assert [a["id"] for a in page] == [last]
    only = hub.client.get("/audit?action=ingest", headers=hub.h("admin")).json()
    assert only and {a["action"] for a in only} == {"ingest"}


def test_audit_log_is_append_only(hub):
    _store_one(hub)
    eng = hub.store.engine
    n = len(_audit_rows(hub))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with eng.begin() as conn:
            conn.execute(audit_log.update().values(actor="someone-else"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with eng.begin() as conn:
            conn.execute(audit_log.delete())
    rows = _audit_rows(hub)
    assert len(rows) == n and all(r["actor"] != "someone-else" for r in rows)
    # a reopened store (trigger creation is idempotent) still appends
    from istvhub.store import open_store

    s2 = open_store(hub.store.url)
    s2.audit("admin-1", "check", "reopen")
    s2.dispose()
    assert len(_audit_rows(hub)) == n + 1


def test_no_code_path_updates_or_deletes_audit_rows():
    offenders = []
    for p in SRC.rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        for needle in (
            "audit_log.update(",
            "audit_log.delete(",
            "UPDATE audit_log",
            "DELETE FROM audit_log",
            "update audit_log",
            "delete from audit_log",
        ):
            if needle in text:
                offenders.append((p.name, needle))
    assert offenders == []


def test_other_department_ed_cannot_read_records(hub):
    sid = _store_one(hub, dept=OTHER_DEPT)
    assert hub.client.get(f"/submissions/{sid}/records", headers=hub.h("ed")).status_code == 404
    assert (
        hub.client.get(f"/submissions/{sid}/records", headers=hub.h("ed_other")).status_code == 200
    )


def test_cli_unsuppressed_export_is_audited(seeded, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from istvhub.cli import app
    from istvhub.core.config import get_settings

    hub = seeded.hub
    monkeypatch.setenv("ISTVHUB_HOME", str(hub.settings.home))
    get_settings.cache_clear()
    runner = CliRunner()
    base = [
        "hotblocks",
        "--from",
        "2025-06",
        "--to",
        "2025-06",
        "--format",
        "csv",
        "--db",
        hub.settings.db_url,
    ]
    n = len(_audit_rows(hub))
    r = runner.invoke(app, [*base, "--output", str(tmp_path / "safe.csv")])
    assert r.exit_code == 0, r.output
    assert len(_audit_rows(hub)) == n  # a disclosure-controlled export is not audited
    r = runner.invoke(app, [*base, "--output", str(tmp_path / "raw.csv"), "--unsuppressed"])
    assert r.exit_code == 0, r.output
    get_settings.cache_clear()
    rows = _audit_rows(hub)[n:]
    assert [x["action"] for x in rows] == ["hotblocks.unsuppressed"]
    assert rows[0]["actor"].startswith("cli:") and '"2025-06"' in rows[0]["detail"]
    assert (tmp_path / "raw.csv").is_file()
