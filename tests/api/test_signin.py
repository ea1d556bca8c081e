"""Server-rendered pages without a browser: sign-in cookie, role gating, what each page lists."""

from __future__ import annotations

import pytest


def _signin(hub, who):
    r = hub.client.post("/signin", data={"token": hub.tokens[who]}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    return r


def test_signin_rejects_bad_tokens_and_sets_no_cookie(hub):
    r = hub.client.post("/signin", data={"token": "istv_nope"}, follow_redirects=False)
    assert r.status_code == 401 and "set-cookie" not in r.headers
    assert hub.client.get("/upload", follow_redirects=False).status_code == 303


def test_cookie_authenticates_the_api_and_signout_clears_it(hub):
    _signin(hub, "ed")
    assert hub.client.get("/me").json()["name"] == "ed-own"
    hub.client.post("/signout")
    assert hub.client.get("/me").status_code == 401


@pytest.mark.parametrize(
    ("who", "page", "status"),
    [
        ("ed", "/upload", 200),
        ("ed", "/map", 403),
        ("ed", "/compliance-grid", 403),
        ("csp", "/upload", 403),
        ("csp", "/map", 200),
        ("csp", "/compliance-grid", 403),
        ("mopac", "/upload", 403),
        ("mopac", "/map", 200),
        ("mopac", "/compliance-grid", 200),
        ("admin", "/upload", 200),
        ("admin", "/map", 200),
        ("admin", "/compliance-grid", 200),
    ],
)
def test_pages_are_gated_by_role(hub, who, page, status):
    _signin(hub, who)
    assert hub.client.get(page, follow_redirects=False).status_code == status


def test_upload_page_lists_only_own_departments(hub):
    _signin(hub, "ed")
    html = hub.client.get("/upload").text
    assert 'value="RJ122"' in html and 'value="RJZ01"' not in html


def test_csp_map_offers_only_own_borough_and_no_external_urls(hub):
    _signin(hub, "csp")
    html = hub.client.get("/map").text
    assert '<option value="Westminster">' in html and "Camden" not in html
    assert "London-wide" not in html
    for url in ("/static/map.js", "/static/app.css"):
        body = hub.client.get(url).text
        assert "http://" not in body.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in body


def test_compliance_page_shows_the_summary_line(hub):
    _signin(hub, "mopac")
    html = hub.client.get("/compliance-grid", params={"from": "2025-01", "to": "2025-02"}).text
    assert "shared consistently" in html and 'id="headline"' in html
    assert "<iframe" not in html  # the grid is part of the page, not a frame (issue 18.3)


def test_borough_outlines_are_our_33_boroughs(hub):
    r = hub.client.get("/boundaries/boroughs.geojson", headers=hub.h("csp"))
    fc = r.json()
    assert len(fc["features"]) == 33
    assert hub.client.get("/boundaries/boroughs.geojson").status_code == 401


def test_pages_send_a_strict_content_security_policy(hub):
    r = hub.client.get("/signin")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
