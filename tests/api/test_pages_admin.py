"""User management pages (issue 18.5): an administrator creates a user, rotates and revokes a
token in the browser; the token is shown once and works; every action is audited like the API."""

from __future__ import annotations

import re

import pytest

from istvhub.api import users


def _signin(hub, who):
    r = hub.client.post("/signin", data={"token": hub.tokens[who]}, follow_redirects=False)
    assert r.status_code == 303


def _token_on(html: str) -> str:
    m = re.search(r'id="token-value" class="token-once" type="text" readonly value="([^"]+)"', html)
    assert m, "no token shown"
    return m.group(1)


def test_admin_creates_a_user_whose_token_is_shown_once_and_works(hub):
    _signin(hub, "admin")
    r = hub.client.post(
        "/admin/users",
        data={"name": "new-ed", "role": "ed_analyst", "departments": ["RJ122"]},
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = _token_on(r.text)
    me = hub.client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"name": "new-ed", "role": "ed_analyst", "departments": ["RJ122"], "boroughs": []}
    # listed afterwards, never with the token
    listing = hub.client.get("/admin/users").text
    assert 'data-user="new-ed"' in listing and token not in listing
    assert token not in repr(hub.store.dump_tables())
    log = hub.store.audit_log()
    assert ((log["action"] == "users.add") & (log["detail"].str.contains("new-ed"))).sum() == 1


def test_rotating_revokes_old_tokens_and_issues_one_new(hub):
    _signin(hub, "admin")
    old = hub.tokens["mopac"]
    second = users.issue_token(hub.store.engine, "mopac-1")
    r = hub.client.post("/admin/users/mopac-1/rotate")
    new = _token_on(r.text)
    assert new not in (old, second)
    for t in (old, second):
        assert hub.client.get("/me", headers={"Authorization": f"Bearer {t}"}).status_code == 401
    assert hub.client.get("/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    log = hub.store.audit_log()
    row = log[log["action"] == "users.rotate"].iloc[0]
    assert row["actor"] == "admin-1" and row["detail"] == "user=mopac-1 revoked=2"


def test_rotate_api_returns_the_token_once(hub):
    r = hub.client.post("/users/csp-lambeth/token", headers=hub.h("admin"))
    assert r.status_code == 201 and r.json()["revoked_tokens"] == 1
    tok = r.json()["token"]
    assert hub.client.get("/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    assert hub.client.get("/me", headers=hub.h("csp")).status_code == 401
    assert hub.client.post("/users/csp-lambeth/token", headers=hub.h("mopac")).status_code == 403
    assert hub.client.post("/users/nobody/token", headers=hub.h("admin")).status_code == 404


def test_revoke_from_the_page_locks_the_user_out(hub):
    _signin(hub, "admin")
    r = hub.client.post("/admin/users/ed-own/revoke")
    assert r.status_code == 200 and "ed-own is revoked" in r.text
    assert hub.client.get("/me", headers=hub.h("ed")).status_code == 401
    assert (hub.store.audit_log()["action"] == "users.revoke").sum() == 1


def test_invalid_user_is_refused_in_words(hub):
    _signin(hub, "admin")
    r = hub.client.post("/admin/users", data={"name": "x", "role": "csp_analyst"})
    assert r.status_code == 422
    msg = re.search(r'id="page-error" role="alert">([^<]+)<', r.text).group(1)
    assert "needs at least one" in msg and "--" not in msg
    assert 'data-user="x"' not in r.text


@pytest.mark.parametrize("who", ["ed", "csp", "mopac"])
def test_only_admins_reach_the_user_pages(hub, who):
    _signin(hub, who)
    assert hub.client.get("/admin/users").status_code == 403
    r = hub.client.post("/admin/users", data={"name": "sneaky", "role": "admin"})
    assert r.status_code == 403
    assert hub.client.post("/admin/users/admin-1/rotate").status_code == 403
    assert all(u["name"] != "sneaky" for u in users.list_users(hub.store.engine))


def test_a_post_from_another_site_is_refused(hub):
    _signin(hub, "admin")
    r = hub.client.post("/admin/users/mopac-1/rotate", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert hub.client.get("/me", headers=hub.h("mopac")).status_code == 200
