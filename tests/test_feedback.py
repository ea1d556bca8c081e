"""Feedback sheets: counts and guidance by hand, only the requested department's texts (never
another department's), CSV neutralised, CLI on both backends."""

from __future__ import annotations

import hashlib
from datetime import datetime
from io import StringIO

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from istvhub.cli import app
from istvhub.feedback.core import FeedbackError, advise, feedback_sheet, text_key
from istvhub.feedback.render import to_csv, to_html
from istvhub.records import make_record_id
from istvhub.store import open_store

OWN, OTHER = "RJ122", "RJZ01"
#: (text, geo_status, match_type, reason, times) for our ED in 2025-03
OWN_ROWS = [
    (
        "o/s Black Lion pub",
        "ambiguous",
        "venue",
        "ambiguous: venue 'black lion' exists in 3+ places",
        4,
    ),
    (
        "O/S BLACK LION PUB ",
        "ambiguous",
        "venue",
        "ambiguous: venue 'black lion' exists in 3+ places",
        1,
    ),
    (
        "commercial rd",
        "ambiguous",
        "street",
        "ambiguous: street 'commercial road' exists in 2+ places",
        3,
    ),
    ("u/k", "unknown", None, "unknown: the text gives no place", 5),
    ("home", "home", None, "home", 6),
    ("brixton", "located", "area", "area brixton", 2),
    ("jct acre ln / brixton hill", "located", "junction", "junction of ...", 7),
    ("flibbertigibbet", "unmatched", None, "unmatched: no place", 2),
    ("on holiday in spain", "outside_area", None, "outside area", 1),
    (None, "unknown", None, "unknown", 1),
]
#: the other ED's texts: must never appear in our sheet
OTHER_ROWS = [
    ("zzother secret place rd", "unmatched", None, "unmatched", 9),
    ("o/s Black Lion pub", "ambiguous", "venue", "ambiguous: venue", 5),
]


def _frame(dep: str, spec: list[tuple]) -> pd.DataFrame:
    rows = []
    for text, status, mt, reason, times in spec:
        for _ in range(times):
            rows.append(
                {
                    "department": dep,
                    "location_text": text,
                    "geo_status": status,
                    "match_type": mt,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows)


def test_sheet_by_hand():
    sheet = feedback_sheet(_frame(OWN, OWN_ROWS), OWN, "2025-03")
    s = sheet.summary
    assert s["records"] == 32
    assert s["located"] == 9 and s["located_vague"] == 2 and s["located_precise"] == 7
    assert s["home"] == 6 and s["no_place_given"] == 6 and s["ambiguous"] == 8
    assert s["share_located"] == round(9 / 32, 4)
    assert s["share_located_excluding_home"] == round(9 / 26, 4)
    t = sheet.texts.set_index("text")
    # case/space variants count as one text, shown as typed most often
    assert t.loc["o/s Black Lion pub", "count"] == 5
    assert t.loc["o/s Black Lion pub", "problem"] == "venue name alone"
    assert "Commercial Road" in t.loc["o/s Black Lion pub", "guidance"]
    assert t.loc["commercial rd", "problem"] == "street without area"
    assert "postcode district" in t.loc["commercial rd", "guidance"]
    assert t.loc["u/k", "count"] == 5
    assert t.loc["brixton", "status"] == "located (vague)"
    assert t.loc["flibbertigibbet", "problem"] == "no recognisable place"
    assert t.loc["on holiday in spain", "problem"] == "place outside London"
    assert t.loc["", "problem"] == "no location recorded"
    # precise locations and homes are not problems
    assert "home" not in t.index and "jct acre ln / brixton hill" not in t.index
    assert list(sheet.texts["count"]) == sorted(sheet.texts["count"], reverse=True)


def test_sheet_refuses_other_departments_records():
    mixed = pd.concat([_frame(OWN, OWN_ROWS), _frame(OTHER, OTHER_ROWS)])
    with pytest.raises(FeedbackError, match="department"):
        feedback_sheet(mixed, OWN, "2025-03")


@pytest.mark.parametrize(
    ("text", "status", "mt", "problem"),
    [
        ("black lion", "ambiguous", "venue", "venue name alone"),
        ("high st", "ambiguous", "street", "street without area"),
        ("kings arms pub", "unmatched", None, "venue not found"),
        ("smoth street", "unmatched", None, "street not found"),
        ("jct foo rd / bar st", "unmatched", None, "junction not found"),
        ("e1", "located", "postcode_district", "partial postcode only"),
        ("camden", "located", "borough", "borough only"),
    ],
)
def test_advice_kinds(text, status, mt, problem):
    adv = advise(text, status, mt, "")
    assert adv is not None and adv.problem == problem and adv.guidance


def test_no_advice_for_precise_or_home():
    assert advise("12 acre lane sw2", "located", "postcode", "") is None
    assert advise("pt's flat", "home", None, "") is None
    assert text_key("  O/S  Black-Lion ") == "o/s black lion"


def test_csv_neutralises_formulas_and_html_escapes():
    spec = [
        ('=HYPERLINK("x")', "unmatched", None, "", 2),
        ("<b>x</b> rd", "unmatched", None, "", 1),
    ]
    sheet = feedback_sheet(_frame(OWN, spec), OWN, "2025-03")
    csv_text = to_csv(sheet)
    items = pd.read_csv(StringIO(csv_text), dtype=str, keep_default_na=False)
    texts = items[items.section == "text"]["item"].tolist()
    assert all(not t.startswith("=") for t in texts) and any(t.startswith("'=") for t in texts)
    page = to_html(sheet)
    assert "<b>x</b>" not in page and "&lt;b&gt;" in page


def _seed(db_url: str) -> None:
    store = open_store(db_url)
    for dep, spec, period in (
        (OWN, OWN_ROWS, "2025-03"),
        (OTHER, OTHER_ROWS, "2025-03"),
        (OWN, [("older month rd", "unmatched", None, "", 3)], "2025-02"),
    ):
        df = _frame(dep, spec)
        df["record_id"] = [make_record_id(dep, f"{period}-{i}") for i in range(len(df))]
        df["period"] = period
        df["source_row"] = range(1, len(df) + 1)
        df["arrival_at"] = datetime(int(period[:4]), int(period[5:]), 3, 1, 0)
        df["location_type"] = "street"
        df["weapon"] = "unknown"
        df["age_band"] = "unknown"
        df["sex"] = "unknown"
        store.store_submission(
            department=dep,
            period=period,
            file_sha256=hashlib.sha256(f"{dep}{period}".encode()).hexdigest(),
            source_filename=f"{dep}.csv",
            adapter="test",
            records=df,
        )
    store.dispose()


def test_cli_one_department_only(db_url, tmp_path):
    _seed(db_url)
    out = tmp_path / "fb.csv"
    res = CliRunner().invoke(
        app,
        [
            "feedback",
            "--department",
            OWN.lower(),
            "--period",
            "2025-03",
            "--format",
            "csv",
            "--output",
            str(out),
            "--db",
            db_url,
        ],
    )
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "zzother" not in text and "older month" not in text
    items = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    assert set(items["department"]) == {OWN}
    summ = items[items.section == "summary"].set_index("item")["value"]
    assert summ["records"] == "32"
    black = items[(items.section == "text") & (items["item"] == "o/s Black Lion pub")]
    assert black["value"].tolist() == ["5"]  # not 10: the other ED's 5 are not counted

    html_out = tmp_path / "fb.html"
    res = CliRunner().invoke(
        app,
        [
            "feedback",
            "--department",
            OWN,
            "--period",
            "2025-03",
            "--output",
            str(html_out),
            "--db",
            db_url,
        ],
    )
    assert res.exit_code == 0, res.output
    page = html_out.read_text()
    assert "St Thomas" in page and "zzother" not in page and "<script" not in page


def test_cli_unknown_department(db_url):
    _seed(db_url)
    res = CliRunner().invoke(
        app, ["feedback", "--department", "NOPE1", "--period", "2025-03", "--db", db_url]
    )
    assert res.exit_code != 0


# ------------------------------------------------------------------ real feeds, real geocoder


def test_real_feed_geocoded_sheet(tmp_path, gazetteer_home):
    """Two EDs' March sample feeds ingested and geocoded with the real gazetteer: the sheet of one
    ED accounts for all its records, lists only texts that ED sent, and its counts agree with the
    stored geocode results."""
    from conftest import SAMPLE_FEEDS
    from istvhub.feedback.core import text_key
    from istvhub.feedback.service import build_sheet
    from istvhub.geocode.shared import shared_geocoder
    from istvhub.ingest.core import ingest_file

    url = f"sqlite:///{tmp_path / 'fb.db'}"
    st = open_store(url)
    try:
        for dep in (OWN, OTHER):
            ingest_file(
                SAMPLE_FEEDS / dep / f"{dep}_2025-03.csv",
                st,
                geocoder=shared_geocoder(gazetteer_home, url),
                home=gazetteer_home,
                department=dep,
                period="2025-03",
                adapter="istv_mds" if dep == OWN else "ecds",
            )
        own = st.current_records(OWN, "2025-03", "2025-03")
        other = st.current_records(OTHER, "2025-03", "2025-03")
        sheet = build_sheet(st.engine, OWN, "2025-03", top=500)
    finally:
        st.dispose()
    s = sheet.summary
    assert s["records"] == len(own) > 0
    parts = (
        "located",
        "home",
        "no_place_given",
        "not_found",
        "ambiguous",
        "outside_london",
        "not_geocoded",
    )
    assert sum(s[p] for p in parts) == s["records"]
    assert s["located"] == int((own["geo_status"] == "located").sum())
    assert s["not_geocoded"] < s["records"]  # the geocoder ran
    own_keys = {text_key(t) for t in own["location_text"].dropna()} | {""}
    other_only = {text_key(t) for t in other["location_text"].dropna()} - own_keys
    listed = {text_key(t) for t in sheet.texts["text"]}
    assert listed <= own_keys and not listed & other_only
    assert len(sheet.texts) and sheet.texts["guidance"].str.len().gt(0).all()
    top = sheet.texts.iloc[0]
    keys = [text_key(None if pd.isna(t) else t) for t in own["location_text"]]
    same = own[[k == text_key(top["text"]) for k in keys]]
    assert top["count"] <= len(same)


STATUSES = st.sampled_from(
    ["located", "home", "unknown", "unmatched", "ambiguous", "outside_area", None]
)
MATCHES = st.sampled_from(
    [
        None,
        "street",
        "venue",
        "junction",
        "area",
        "borough",
        "postcode",
        "postcode_district",
        "station",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), st.text(max_size=80)),
    STATUSES,
    MATCHES,
    st.one_of(st.none(), st.text(max_size=40)),
)
def test_property_advice_total_and_keys_stable(text, status, mt, reason):
    adv = advise(text, status, mt, reason)
    if status == "home" or (
        status == "located"
        and mt not in ("area", "borough", "postcode_district", "postcode_sector")
        and text is not None
        and text.strip()
    ):
        assert adv is None
    elif status != "located":
        assert adv is not None and adv.problem and adv.guidance
    k = text_key(text)
    assert text_key(k) == k and k == k.strip()
