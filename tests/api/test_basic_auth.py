"""HTTP Basic auth with the token as the password (issue 18.6): QGIS 3.22, ArcGIS and GDAL can
send it where they cannot add an ``Authorization: Bearer`` header. Same checks (role, scope,
revocation, expiry), same failed-attempt limit, same audit as a bearer token."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from istvhub.api import security, users


def basic(token: str, name: str = "qgis") -> dict[str, str]:
    raw = f"{name}:{token}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_basic_with_the_token_as_password_is_the_same_user(hub):
    for who in ("ed", "csp", "mopac", "admin"):
        by_bearer = hub.client.get("/me", headers=hub.h(who)).json()
        by_basic = hub.client.get("/me", headers=basic(hub.tokens[who]))
        assert by_basic.status_code == 200 and by_basic.json() == by_bearer
    # the user name is not the secret: any name (QGIS asks for one) with the token works
    assert hub.client.get("/me", headers=basic(hub.tokens["mopac"], "anyone")).status_code == 200


def test_basic_with_a_wrong_revoked_or_malformed_password_is_refused(hub):
    tampered = hub.tokens["admin"][:-1] + ("A" if hub.tokens["admin"][-1] != "A" else "B")
    for headers in (
        basic(tampered),
        basic("istv_" + "x" * 43),
        basic(""),
        {"Authorization": "Basic not*base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no colon here").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode()},
        {"Authorization": "Basic"},
    ):
        r = hub.client.get("/me", headers=headers)
        assert r.status_code == 401, headers
    users.revoke_user(hub.store.engine, "ed-own")
    assert hub.client.get("/me", headers=basic(hub.tokens["ed"])).status_code == 401


def test_basic_keeps_the_role_rules(hub):
    assert hub.client.get("/users", headers=basic(hub.tokens["mopac"])).status_code == 403
    assert hub.client.get("/users", headers=basic(hub.tokens["admin"])).status_code == 200
    assert hub.client.get("/compliance", headers=basic(hub.tokens["ed"])).status_code == 403


def test_failed_basic_attempts_count_towards_the_same_limit(hub):
    from istvhub.api.security import FailedAuthLimiter

    hub.client.app.state.auth_limiter = FailedAuthLimiter(limit=3, window_s=60)
    for _ in range(3):
        assert hub.client.get("/me", headers=basic("istv_" + "y" * 43)).status_code == 401
    # blocked now, for bearer and basic alike, valid token included
    assert hub.client.get("/me", headers=basic(hub.tokens["admin"])).status_code == 429
    assert hub.client.get("/me", headers=hub.h("admin")).status_code == 429


def test_gis_paths_offer_basic_in_the_challenge_and_pages_do_not(hub):
    ogc = hub.client.get("/ogc")
    assert ogc.status_code == 401
    assert "Basic" in ogc.headers["www-authenticate"]
    assert "Bearer" in ogc.headers["www-authenticate"]
    me = hub.client.get("/me")
    assert me.status_code == 401 and me.headers["www-authenticate"] == "Bearer"


def test_ogc_items_by_basic_are_scoped_like_bearer(seeded):
    hub = seeded.hub
    path = "/ogc/collections/hotblocks-blocks/items"
    got = {}
    for label, headers in (("bearer", hub.h("csp")), ("basic", basic(hub.tokens["csp"]))):
        r = hub.client.get(path, params={"limit": 1000}, headers=headers)
        assert r.status_code == 200
        got[label] = r.json()["features"]
    assert got["basic"] == got["bearer"] and got["basic"]
    assert {f["properties"]["borough"] for f in got["basic"]} == {"Westminster"}
    camden = seeded.blocks[3]["block_id"]
    r = hub.client.get(f"{path}/{camden}", headers=basic(hub.tokens["csp"]))
    assert r.status_code == 404


def test_unsuppressed_by_basic_is_audited_as_by_bearer(seeded):
    hub = seeded.hub
    r = hub.client.get(
        "/layers/hotblocks",
        params={"format": "geojson", "unsuppressed": "true", "from": "2025-06", "to": "2025-06"},
        headers=basic(hub.tokens["admin"]),
    )
    assert r.status_code == 200 and "UNSUPPRESSED" in r.headers["content-disposition"]
    log = hub.store.audit_log()
    rows = log[log["action"] == "layers.unsuppressed"]
    assert len(rows) == 1 and rows.iloc[0]["actor"] == "admin-1"
    assert json.loads(rows.iloc[0]["detail"])["period_from"] == "2025-06"
    # the token is never written to the log
    assert hub.tokens["admin"] not in repr(log.to_dict("records"))


#: what a client can put in a Basic header: any text UTF-8 can encode (no lone surrogates)
_ENCODABLE = st.characters(blacklist_categories=("Cs",))


@given(
    name=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters=":"), max_size=40
    ),
    token=st.text(_ENCODABLE, min_size=1, max_size=80).filter(lambda t: t.strip() == t and t),
)
def test_basic_header_round_trips_the_password(name, token):
    header = basic(token, name)["Authorization"]
    assert security.token_from_authorization(header) == token
    assert security.token_from_authorization(f"Bearer {token}") == token


@given(st.text(max_size=300))
def test_any_authorization_header_parses_without_error(text):
    out = security.token_from_authorization(text)
    assert out is None or isinstance(out, str)
