"""Compliance read from a real store (SQLite and PostgreSQL), the CLI, and the four renderers."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from istvhub.cli import app
from istvhub.compliance.deadlines import due_at
from istvhub.compliance.grid import summarise_records
from istvhub.compliance.read import read_inputs
from istvhub.compliance.render import render
from istvhub.compliance.service import build_report
from istvhub.records import make_record_id
from istvhub.store import open_store
from istvhub.store.schema import submissions

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TYPE1 = "RJ122"  # St Thomas': always shared (no sharing_since in the registry)
JOINER = "R1K12"  # Central Middlesex UCC: sharing_since 2025-04 in the registry
TEXTS = [
    "o/s tesco brixton rd",
    "jct acre ln / brixton hill",
    "home",
    "u/k",
    "",
    None,
    "nr clapham jct stn",
    "black lion pub",
]


def _records(dep: str, period: str, n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    y, m = int(period[:4]), int(period[5:])
    rows = []
    for i in range(n):
        day = date(y, m, 1 + rng.randrange(28))
        loc = rng.choice(TEXTS)
        rows.append(
            {
                "record_id": make_record_id(dep, f"{period}-{i}"),
                "department": dep,
                "period": period,
                "source_row": i + 1,
                "arrival_at": datetime(y, m, day.day, 12, 0),
                "incident_date": day if rng.random() < 0.9 else None,
                "incident_time": time(rng.randrange(24), 0) if rng.random() < 0.7 else None,
                "location_text": loc,
                "location_type": rng.choice(["street", "home", "unknown", "licensed_premises"]),
                "weapon": rng.choice(["body_part", "sharp", "unknown"]),
                "weapon_text": None,
                "age_band": "unknown",
                "sex": "unknown",
                "geo_status": (
                    None
                    if seed % 5 == 0
                    else "home"
                    if loc == "home"
                    else "unknown"
                    if loc in ("u/k", "", None)
                    else rng.choice(["located", "located", "unmatched"])
                ),
            }
        )
    return pd.DataFrame(rows)


def _ingest(store, dep: str, period: str, n: int, seed: int, received: datetime) -> None:
    res = store.store_submission(
        department=dep,
        period=period,
        file_sha256=f"{seed:064d}",
        source_filename=f"{dep}_{period}_{seed}.csv",
        adapter="istv_mds",
        records=_records(dep, period, n, seed),
        quarantine=pd.DataFrame(
            {"source_row": [n + 1], "field": ["Assault_Date"], "reason": ["unparseable date"]}
        )
        if seed % 3 == 0
        else None,
    )
    with store.engine.begin() as conn:
        conn.execute(
            submissions.update()
            .where(submissions.c.submission_id == res.submission_id)
            .values(received_at=received)
        )


def _build_store(db_url: str) -> str:
    """Five months of one ED (one missing, one late, one re-uploaded) and a UCC that joined."""
    store = open_store(db_url)
    seed = 1
    for p in ["2025-01", "2025-02", "2025-04", "2025-05", "2025-06"]:  # 2025-03 missing
        due = due_at(p).astimezone(UTC)
        late = p == "2025-06"
        _ingest(
            store,
            TYPE1,
            p,
            40 + seed,
            seed,
            due + timedelta(days=4) if late else due - timedelta(days=6),
        )
        seed += 1
    # 2025-05 re-uploaded after its deadline: 2 versions, still on time (first arrival)
    _ingest(store, TYPE1, "2025-05", 45, 99, due_at("2025-05").astimezone(UTC) + timedelta(days=9))
    for p in ["2025-04", "2025-05", "2025-06"]:
        _ingest(store, JOINER, p, 12, seed, due_at(p).astimezone(UTC) - timedelta(days=1))
        seed += 1
    store.engine.dispose()
    return db_url


@pytest.fixture
def store_url(db_url):
    return _build_store(db_url)


def test_sql_counts_equal_counts_from_records(store_url):
    store = open_store(store_url)
    eng = sa.create_engine(store_url)
    try:
        inputs = read_inputs(eng)
        recs = store.current_records()
    finally:
        eng.dispose()
        store.engine.dispose()
    sql = inputs.record_stats.sort_values(["department", "period"]).reset_index(drop=True)
    pure = summarise_records(recs).sort_values(["department", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        sql.astype({"department": str, "period": str}),
        pure.astype({"department": str, "period": str}),
        check_dtype=False,
    )
    # the current version of the re-uploaded month only
    n = sql.set_index(["department", "period"]).loc[(TYPE1, "2025-05"), "records"]
    assert n == 45
    assert len(inputs.departments) >= 30  # the registry was loaded by the store


def test_counts_follow_a_regeocode(store_url):
    """The per-submission statistics are recounted when ``geocode --stored`` rewrites statuses."""
    store = open_store(store_url)
    eng = sa.create_engine(store_url)
    try:
        recs = store.current_records(department=TYPE1, period_from="2025-04", period_to="2025-04")
        changed = recs[["id"]].assign(geo_status="outside_area", gazetteer_version="g2")
        assert store.update_geocodes(changed) == len(recs)
        stats = read_inputs(eng).record_stats.set_index(["department", "period"])
        pure = summarise_records(store.current_records()).set_index(["department", "period"])
    finally:
        eng.dispose()
        store.engine.dispose()
    assert stats.loc[(TYPE1, "2025-04"), "n_outside_area"] == len(recs)
    assert stats.loc[(TYPE1, "2025-04"), "n_located"] == 0
    for col in ("records", "n_outside_area", "n_located", "n_geocoded"):
        assert stats[col].astype(int).to_dict() == pure[col].astype(int).to_dict()


def test_report_from_store(store_url):
    rep = build_report(
        store_url, start="2025-01", end="2025-06", departments=[TYPE1, JOINER], now=NOW
    )
    cells = rep.cells.set_index(["department", "period"])
    assert cells.loc[(TYPE1, "2025-03"), "status"] == "missing"
    assert cells.loc[(TYPE1, "2025-03"), "rag"] == "red"
    assert cells.loc[(TYPE1, "2025-06"), "on_time"] is False
    assert cells.loc[(TYPE1, "2025-06"), "days_late"] == 4
    assert cells.loc[(TYPE1, "2025-05"), "versions"] == 2
    assert cells.loc[(TYPE1, "2025-05"), "on_time"] is True
    assert cells.loc[(TYPE1, "2025-05"), "records"] == 45
    for p in ("2025-01", "2025-02", "2025-03"):
        assert cells.loc[(JOINER, p), "status"] == "not_expected"
        assert cells.loc[(JOINER, p), "rag"] == "grey"
    assert cells.loc[(JOINER, "2025-04"), "status"] == "received"
    # quarantined rows come through from the quarantine table / counters
    q = cells.xs(TYPE1)["rows_quarantined"].dropna()
    assert (q > 0).any()
    # received_at round-trips as the UTC instant that was stored, on both backends
    got = pd.Timestamp(cells.loc[(TYPE1, "2025-06"), "received_at"])
    assert got == pd.Timestamp(due_at("2025-06")).tz_convert("UTC") + pd.Timedelta(days=4)


def test_cli_formats(store_url, tmp_path):
    runner = CliRunner()
    base = [
        "compliance",
        "--db",
        store_url,
        "--from",
        "2025-01",
        "--to",
        "2025-06",
        "--department",
        TYPE1,
        "--department",
        JOINER.lower(),
        "--as-of",
        NOW.isoformat(),
    ]
    res = runner.invoke(app, [*base, "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert set(doc) == {"summary", "rules", "departments", "cells"}
    assert len(doc["cells"]) == 2 * 6 and len(doc["departments"]) == 2
    cell = next(c for c in doc["cells"] if c["department"] == TYPE1 and c["period"] == "2025-05")
    assert cell["versions"] == 2 and cell["records"] == 45
    assert re.fullmatch(r"\d+ of 2 departments sharing consistently", doc["summary"]["line"])

    out = tmp_path / "c.csv"
    res = runner.invoke(app, [*base, "--format", "csv", "--output", str(out)])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(out, dtype={"period": str})
    assert len(csv) == 12
    assert csv.loc[(csv.department == TYPE1) & (csv.period == "2025-03"), "rag"].item() == "red"

    html_out = tmp_path / "c.html"
    res = runner.invoke(app, [*base, "--format", "html", "--output", str(html_out)])
    assert res.exit_code == 0, res.output
    page = html_out.read_text()
    assert doc["summary"]["line"] in page
    assert page.count('class="cell ') == 12
    assert 'class="cell red"' in page and 'class="cell grey"' in page
    assert "versions: 2" in page  # figures on hover
    assert not re.search(r"(src|href)=\"?https?:", page)  # self-contained

    res = runner.invoke(app, [*base, "--format", "table"])
    assert res.exit_code == 0, res.output
    assert TYPE1 in res.output and "sharing consistently" in res.output

    res = runner.invoke(app, [*base, "--format", "pdf"])
    assert res.exit_code != 0


def test_renderers_carry_no_record_text(store_url):
    rep = build_report(store_url, start="2025-01", end="2025-06", now=NOW)
    for fmt in ("csv", "json", "html", "table"):
        text = render(rep, fmt).lower()
        for t in TEXTS:
            if t and len(t) > 4:
                assert t not in text, (fmt, t)
