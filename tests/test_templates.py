"""HTML reports render through Jinja templates (issue 15.6): the package builds no page with
f-strings, and text from the data is escaped in every report."""

from __future__ import annotations

import ast
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

import istvhub
from istvhub.compare.core import Comparison
from istvhub.compare.report import render_html as compare_html
from istvhub.compliance.deadlines import due_at
from istvhub.compliance.render import to_html as compliance_html
from istvhub.compliance.report import compliance_report
from istvhub.disclosure.rules import get_rule
from istvhub.equality.core import DIMENSIONS, breakdown
from istvhub.equality.render import to_html as equality_html
from istvhub.feedback.core import feedback_sheet
from istvhub.feedback.render import to_html as feedback_html

PKG = Path(istvhub.__file__).parent
HOSTILE = "<script>alert(1)</script> & 'x'"


def _html_literals(path: Path) -> list[int]:
    """Lines of string literals in ``path`` that are pieces of an HTML page or table."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marks = ("<html", "<table", "<tr>", "<td")
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(m in node.value.lower() for m in marks)
    ]


def test_no_html_built_in_python(tmp_path):
    found = {str(p.relative_to(PKG)): _html_literals(p) for p in PKG.rglob("*.py")}
    assert {k: v for k, v in found.items() if v} == {}
    probe = tmp_path / "probe.py"  # the checker does see f-string HTML where there is some
    probe.write_text('def row(x):\n    return f"<tr><td>{x}</td></tr>"\n', encoding="utf-8")
    assert _html_literals(probe) == [2]


def test_compliance_page_escapes_names_and_explains_every_cell():
    deps = pd.DataFrame(
        {
            "ods_code": ["AAA01", "BBB01"],
            "name": [HOSTILE, "Beta"],
            "dept_type": ["01", "01"],
            "borough": ["Camden", "Brent"],
            "sharing_since": [None, None],
        }
    )
    due = due_at("2025-01")
    subs = pd.DataFrame(
        [
            dict(
                department="AAA01",
                period="2025-01",
                version=1,
                status="current",
                received_at=(due - timedelta(days=3)).astimezone(UTC),
                rows_total=10,
                rows_accepted=10,
                rows_quarantined=0,
                rows_skipped=0,
            )
        ]
    )
    stats = pd.DataFrame(
        [
            {
                "department": "AAA01",
                "period": "2025-01",
                "records": 10,
                **{f"n_{c}": 10 for c in ("incident_date", "incident_time", "location_text")},
                **{f"n_{c}": 10 for c in ("location_type", "weapon", "geocoded", "located")},
                **{f"n_{c}": 0 for c in ("home", "unknown", "unmatched", "outside_area")},
                "n_ambiguous": 0,
            }
        ]
    )
    rep = compliance_report(
        deps, subs, stats, start="2025-01", end="2025-02", now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    page = compliance_html(rep)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count('class="cell ') == 4  # two departments x two months
    assert 'class="cell green"' in page and 'class="cell red"' in page  # AAA01 Jan, BBB01 missing
    assert 'aria-label="red: MISS"' in page  # the colour is said in words too
    assert "records: 10" in page  # each cell's figures on hover and focus
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")


def test_feedback_page_escapes_recorded_text():
    df = pd.DataFrame(
        {
            "department": ["RJ122"] * 3,
            "location_text": [HOSTILE, HOSTILE, ""],
            "geo_status": ["unmatched", "unmatched", "unknown"],
            "match_type": [None, None, None],
            "reason": [None, None, None],
        },
        dtype=object,
    )
    page = feedback_html(feedback_sheet(df, "RJ122", "2025-03", department_name="King's <b>"))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "King&#39;s &lt;b&gt; (RJ122)" in page
    assert "<i>(blank)</i>" in page  # markup of the template itself is kept
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")


def test_equality_page_has_every_slice_and_escapes_the_scope():
    by = ("age_band", "sex", "weapon")
    levels = list(itertools.product(*[DIMENSIONS[d] for d in by]))
    counts = pd.DataFrame(
        [(*k, (i * 7) % 23, (i * 31) % 256) for i, k in enumerate(levels)],
        columns=[*by, "n", "ckey"],
    )
    t = breakdown(counts, by, get_rule(None), scope=HOSTILE, start="2025-01", end="2025-06")
    page = equality_html(t)
    assert "<script>" not in page
    assert page.count("<table>") == len(DIMENSIONS["weapon"]) + 1  # every weapon and all
    assert page.count("<h2>") == len(DIMENSIONS["weapon"]) + 1  # each slice titled


def test_compare_page_escapes_street_names_and_names_census_units():
    table = pd.DataFrame(
        {
            "excess_rank": [1.0, np.nan],
            "lsoa21_code": ["E01000001", "E01000002"],
            "ed_count": [40.0, 3.0],
            "ed_suppressed": [False, True],
            "police_count": [10.0, 1.0],
            "police_suppressed": [False, True],
            "ed_excess": [30.0, 2.0],
            "excess_suppressed": [False, True],
        }
    )
    summary = pd.DataFrame(
        [("filter", "period_from", "2025-01"), ("filter", "boroughs", HOSTILE)],
        columns=["section", "key", "value"],
    )
    page = compare_html(Comparison("lsoas21", table, summary, get_rule(None)))
    assert "<script>" not in page and "LSOA 2021" in page and "E01000001" in page
    assert "E01000002" not in page  # unranked (suppressed excess) places are not listed


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_compliance_page_colours_pass_wcag_aa():
    """Every RAG cell's text on its background is at least 4.5:1 (WCAG 2.1 AA, normal text)."""
    import re

    from istvhub.compliance.render import _CSS

    pairs = re.findall(r"td\.(\w+),[^{]*\{background:(#[0-9a-f]{6});color:(#[0-9a-f]{6})\}", _CSS)
    assert {p[0] for p in pairs} == {"green", "amber", "red", "grey"}
    for rag, bg, fg in pairs:
        hi, lo = sorted((_luminance(bg), _luminance(fg)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, rag
