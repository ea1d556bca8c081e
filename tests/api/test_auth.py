"""Tokens and roles: every endpoint but /health needs a live token; each rule is attacked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from istvhub.api import security, users
from istvhub.store.schema import api_tokens

PROTECTED = [
    ("get", "/me"),
    ("get", "/users"),
]


def test_health_needs_no_token_and_says_nothing_else(hub):
    r = hub.client.get("/health")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"
    assert set(r.json()) == {"status", "version", "database"}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_endpoints_refuse_missing_and_wrong_tokens(hub, method, path):
    assert getattr(hub.client, method)(path).status_code == 401
    bad = {"Authorization": "Bearer istv_" + "x" * 43}
    assert getattr(hub.client, method)(path, headers=bad).status_code == 401
    # a real token with one character changed
    tampered = hub.tokens["admin"][:-1] + ("A" if hub.tokens["admin"][-1] != "A" else "B")
    r = getattr(hub.client, method)(path, headers={"Authorization": f"Bearer {tampered}"})
    assert r.status_code == 401


def test_me_reports_role_and_scope(hub):
    assert hub.client.get("/me", headers=hub.h("ed")).json() == {
        "name": "ed-own",
        "role": "ed_analyst",
        "departments": ["RJ122"],
        "boroughs": [],
    }
    assert hub.client.get("/me", headers=hub.h("csp")).json()["boroughs"] == ["Westminster"]


def test_token_is_stored_only_as_its_hash(hub):
    dump = hub.store.dump_tables()
    flat = repr(dump)
    for tok in hub.tokens.values():
        assert tok not in flat
        assert tok[len(security.TOKEN_PREFIX) :] not in flat
        assert security.hash_token(tok) in flat


def test_revoked_user_is_locked_out(hub):
    assert hub.client.get("/me", headers=hub.h("ed")).status_code == 200
    assert users.revoke_user(hub.store.engine, "ed-own") == 1
    assert hub.client.get("/me", headers=hub.h("ed")).status_code == 401


def test_expired_token_is_refused(hub):
    tok = users.issue_token(hub.store.engine, "mopac-1", expires_days=1)
    assert hub.client.get("/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    with hub.store.engine.begin() as c:
        c.execute(
            api_tokens.update()
            .where(api_tokens.c.token_sha256 == security.hash_token(tok))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert hub.client.get("/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 401
    # the user's other token still works
    assert hub.client.get("/me", headers=hub.h("mopac")).status_code == 200


@pytest.mark.parametrize("who", ["ed", "csp", "mopac"])
def test_only_admin_manages_users(hub, who):
    assert hub.client.get("/users", headers=hub.h(who)).status_code == 403
    r = hub.client.post("/users", headers=hub.h(who), json={"name": "evil", "role": "admin"})
    assert r.status_code == 403
    assert hub.client.delete("/users/admin-1", headers=hub.h(who)).status_code == 403
    assert all(u["name"] != "evil" for u in users.list_users(hub.store.engine))


def test_admin_adds_and_revokes_users_and_is_audited(hub):
    r = hub.client.post(
        "/users",
        headers=hub.h("admin"),
        json={"name": "csp-2", "role": "csp_analyst", "boroughs": ["Camden"]},
    )
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert (
        hub.client.get("/me", headers={"Authorization": f"Bearer {tok}"}).json()["role"]
        == "csp_analyst"
    )
    names = [u["name"] for u in hub.client.get("/users", headers=hub.h("admin")).json()]
    assert "csp-2" in names
    assert tok not in hub.client.get("/users", headers=hub.h("admin")).text
    assert hub.client.delete("/users/csp-2", headers=hub.h("admin")).status_code == 200
    assert hub.client.get("/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 401
    log = hub.store.audit_log()
    assert {"users.add", "users.revoke"} <= set(log["action"])


@pytest.mark.parametrize(
    ("role", "kw"),
    [
        ("ed_analyst", {}),  # an ED analyst without a department would see nothing or everything
        ("csp_analyst", {}),
        ("mopac", {"departments": ["RJ122"]}),
        ("admin", {"boroughs": ["Lambeth"]}),
        ("superuser", {}),
        ("ed_analyst", {"departments": ["NOPE1"]}),  # not in the registry
    ],
)
def test_invalid_users_are_refused(hub, role, kw):
    with pytest.raises(users.UserError):
        users.add_user(hub.store.engine, "x", role, **kw)


def test_admin_api_canonicalises_and_checks_borough_names(hub):
    ok = hub.client.post(
        "/users",
        headers=hub.h("admin"),
        json={"name": "csp-w", "role": "csp_analyst", "boroughs": ["city of westminster"]},
    )
    assert ok.status_code == 201 and ok.json()["boroughs"] == ["Westminster"]
    bad = hub.client.post(
        "/users",
        headers=hub.h("admin"),
        json={"name": "csp-x", "role": "csp_analyst", "boroughs": ["Gotham"]},
    )
    assert bad.status_code == 422 and "'borough'" in bad.json()["detail"]


def test_duplicate_user_name_refused(hub):
    with pytest.raises(users.UserError):
        users.add_user(hub.store.engine, "admin-1", "admin")


@given(st.text(max_size=80))
def test_arbitrary_strings_never_authenticate(text):
    assert not security.digest_matches(text + "x", security.hash_token(text))
    assert security.digest_matches(text, security.hash_token(text))


def test_cli_users_add_prints_token_once_and_list_hides_it(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from istvhub.cli import app

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    r = runner.invoke(
        app, ["users", "add", "ann", "--role", "ed_analyst", "--department", "RJ122", "--db", db]
    )
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("istv_")
    r2 = runner.invoke(app, ["users", "list", "--json", "--db", db])
    assert r2.exit_code == 0 and "ann" in r2.stdout and token not in r2.stdout
    r3 = runner.invoke(app, ["users", "revoke", "ann", "--db", db])
    assert r3.exit_code == 0
    eng = sa.create_engine(db)
    assert users.authenticate(eng, token) is None
    eng.dispose()


def test_openapi_documents_the_upload_form(hub):
    assert hub.client.get("/openapi.json").status_code == 401
    spec = hub.client.get("/openapi.json", headers=hub.h("ed")).json()
    body = spec["paths"]["/submissions"]["post"]["requestBody"]["content"]
    assert "file" in body["multipart/form-data"]["schema"]["properties"]
    assert "/ogc/collections/{collection_id}/items" in spec["paths"]


def test_api_docs_page_loads_nothing_from_outside(hub):
    assert hub.client.get("/docs").status_code == 401  # the API's map needs a token too
    html = hub.client.get("/docs", headers=hub.h("ed")).text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert hub.client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
