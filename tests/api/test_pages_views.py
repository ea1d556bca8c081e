"""The pages without a browser (issue 18.3-18.5): the compliance dashboard on the sample feeds,
navigation per role, no raw JSON where a person clicks, the QGIS page, the favicon."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from conftest import SAMPLE_FEEDS

LONDON = ZoneInfo("Europe/London")
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _signin(hub, who):
    r = hub.client.post("/signin", data={"token": hub.tokens[who]}, follow_redirects=False)
    assert r.status_code == 303


class _Grid(HTMLParser):
    """Rows of the compliance grid: data attributes and each cell's words and tooltip."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self._cell: dict | None = None
        self._in_tip = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-department" in a:
            self.rows.append({**a, "cells": []})
        elif tag == "td" and "cell" in (a.get("class") or "").split() and self.rows:
            self._cell = {"rag": a.get("data-rag"), "tabindex": a.get("tabindex"), "words": ""}
            self._cell["tip"] = ""
            self.rows[-1]["cells"].append(self._cell)
        elif tag == "span" and a.get("class") == "tip":
            self._in_tip = True

    def handle_endtag(self, tag):
        if tag == "span":
            self._in_tip = False
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["tip" if self._in_tip else "words"] += data


@pytest.fixture
def sample_hub(hub):
    """The hub with the sample feeds Jan-Oct 2025 ingested at the manifest's arrival times."""
    from istvhub.ingest.core import ingest_file

    m = pd.read_csv(SAMPLE_FEEDS / "manifest.csv", dtype=str, keep_default_na=False)
    m = m[m["period"] <= "2025-10"]
    m["arrived"] = [datetime.fromisoformat(t).replace(tzinfo=LONDON) for t in m["received_at"]]
    for r in m.sort_values("arrived").itertuples(index=False):
        ingest_file(
            SAMPLE_FEEDS / r.file,
            hub.store,
            geocode=False,
            department=r.department,
            period=r.period,
            adapter=r.adapter,
            received_at=r.arrived,
        )
    return hub, m


def test_compliance_dashboard_headline_trend_and_grid(sample_hub):
    hub, manifest = sample_hub
    _signin(hub, "mopac")
    html = hub.client.get("/compliance-grid", params={"from": "2025-01", "to": "2025-10"}).text
    assert "<iframe" not in html
    # the headline, counted here from the manifest: files for October that arrived by the
    # deadline (20 November 23:59:59 London time), over the departments due that month
    oct_ = manifest[manifest["period"] == "2025-10"]
    due = datetime(2025, 11, 20, 23, 59, 59, tzinfo=LONDON)
    first = oct_.sort_values("arrived").drop_duplicates("department")
    on_time = int((first["arrived"] <= due).sum())
    data = hub.client.get(
        "/compliance", params={"from": "2025-01", "to": "2025-10"}, headers=hub.h("mopac")
    ).json()
    expected = [
        c
        for c in data["cells"]
        if c["period"] == "2025-10" and c["status"] in ("received", "missing")
    ]
    m = re.search(r'id="headline">(\d+) of (\d+) (\w+) shared on time in October 2025', html)
    assert m, html[:3000]
    assert int(m.group(1)) == on_time and int(m.group(2)) == len(expected)
    assert on_time > 0 and len(expected) > on_time  # the registry has never-sharing EDs
    # the grid: one row per registered department, every cell in words and focusable
    g = _Grid()
    g.feed(html)
    assert len(g.rows) == len(data["departments"])
    by_cell = {(c["department"], c["period"]): c for c in data["cells"]}
    for row in g.rows:
        assert len(row["cells"]) == 10
        months = pd.period_range("2025-01", "2025-10", freq="M")
        for period, cell in zip(months, row["cells"], strict=True):
            src = by_cell[(row["data-department"], str(period))]
            assert cell["rag"] == src["rag"] and cell["tabindex"] == "0"
            assert cell["words"].strip() and cell["tip"].strip()
            if src["status"] == "missing":
                assert cell["words"] == "Missing"
            if src["status"] == "received":
                assert cell["words"].startswith("On time" if src["on_time"] else "Late")
                assert f"{src['records']} rec" in cell["words"]
    # filters offer the registry's types and boroughs in words
    assert "Type 1 ED" in html and '<option value="01">' in html
    assert "<option>Westminster</option>" in html
    # trend numbers behind the chart match the JSON per month
    table = re.search(r'id="trend-table">(.*?)</table>', html, re.S).group(1)
    assert table.count("<tr>") == 11
    assert "/static/vendor/uplot/uPlot.iife.min.js" in html
    # no link to raw JSON; CSV and a printable page instead
    assert "format=json" not in html and "format=csv" in html


@pytest.mark.parametrize(
    ("who", "present", "absent"),
    [
        ("ed", ["/upload", "/feedback-sheet", "/equality-table"], ["/map", "/admin/users"]),
        ("csp", ["/map", "/compare-police", "/connect-qgis"], ["/upload", "/compliance-grid"]),
        ("mopac", ["/map", "/compliance-grid", "/connect-qgis"], ["/upload", "/admin/users"]),
        ("admin", ["/upload", "/map", "/compliance-grid", "/admin/users"], []),
    ],
)
def test_navigation_lists_what_the_role_may_do(hub, who, present, absent):
    _signin(hub, who)
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', hub.client.get("/").text, re.S)
    assert nav
    for href in present:
        assert f'href="{href}"' in nav.group(1)
        # every link in the navigation opens a page for this role
        assert hub.client.get(href, follow_redirects=False).status_code == 200, href
    for href in absent:
        assert f'href="{href}"' not in nav.group(1)


def test_json_endpoints_opened_in_a_browser_show_a_page(hub):
    _signin(hub, "admin")
    for path, page in (("/me", "/account"), ("/users", "/admin/users"), ("/ogc", "/connect-qgis")):
        r = hub.client.get(path, headers=BROWSER, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == page, path
        assert hub.client.get(page).status_code == 200
    # scripts and GIS clients still get JSON
    assert hub.client.get("/me", headers=hub.h("admin")).json()["role"] == "admin"
    assert hub.client.get("/ogc", headers={**hub.h("admin"), "Accept": "application/json"}).json()
    assert isinstance(hub.client.get("/users", headers=hub.h("admin")).json(), list)


def test_account_page_says_who_you_are(hub):
    _signin(hub, "csp")
    html = hub.client.get("/account").text
    assert "csp-lambeth" in html and "Westminster" in html and "csp analyst" in html


def test_qgis_page_gives_the_url_and_both_ways_to_authenticate(hub):
    _signin(hub, "csp")
    html = hub.client.get("/connect-qgis").text
    assert 'value="http://testserver/ogc"' in html
    assert "Basic authentication" in html and "Bearer" in html
    assert "hotblocks-blocks" in html and "for your boroughs only" in html
    _signin(hub, "ed")
    assert hub.client.get("/connect-qgis").status_code == 403


def test_favicon_is_served(hub):
    r = hub.client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert hub.client.get("/static/favicon.svg").status_code == 200
