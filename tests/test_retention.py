"""Retention on both backends: expired records gone, records inside the window untouched,
submissions and the compliance report for expired months unchanged, an audit entry, and a dry run
that changes nothing."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from istvhub.cli import app
from istvhub.compliance.read import read_inputs
from istvhub.compliance.service import build_report
from istvhub.records import make_record_id
from istvhub.retention.core import (
    RetentionError,
    apply_retention,
    configured_months,
    cutoff_period,
    plan_retention,
)
from istvhub.store import open_store
from istvhub.store.schema import records

TODAY = datetime(2026, 11, 15, tzinfo=UTC)  # 24 months -> keep 2024-11 and later
NOW = datetime(2027, 1, 1, tzinfo=UTC)
#: (department, period, number of records, file seed); 2024-08 is uploaded twice
UPLOADS = [
    ("RJ122", "2024-06", 10, 1),
    ("RJ122", "2024-07", 11, 2),
    ("RJ122", "2024-08", 12, 3),
    ("RJ122", "2024-08", 8, 4),
    ("RJ122", "2024-10", 5, 5),
    ("RJ122", "2024-11", 7, 6),
    ("RJ122", "2024-12", 9, 7),
    ("RJZ01", "2024-10", 6, 8),
    ("RJZ01", "2025-01", 4, 9),
]
STATUSES = ["located", "located", "home", "unknown", "unmatched", "ambiguous", None]


def _records(dep: str, period: str, n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    y, m = int(period[:4]), int(period[5:])
    return pd.DataFrame(
        [
            {
                "record_id": make_record_id(dep, f"{period}-{seed}-{i}"),
                "department": dep,
                "period": period,
                "source_row": i + 1,
                "arrival_at": datetime(y, m, 1 + i, 23, 0),
                "incident_date": date(y, m, 1 + i) if rng.random() < 0.8 else None,
                "incident_time": time(rng.randrange(24), 0) if rng.random() < 0.6 else None,
                "location_text": rng.choice(["o/s tesco brixton rd", "home", "", None]),
                "location_type": rng.choice(["street", "home", "unknown"]),
                "weapon": rng.choice(["body_part", "sharp", "unknown"]),
                "weapon_text": None,
                "age_band": "18-24",
                "sex": "male",
                "geo_status": rng.choice(STATUSES),
            }
            for i in range(n)
        ]
    )


@pytest.fixture
def store(db_url):
    st = open_store(db_url)
    for dep, period, n, seed in UPLOADS:
        st.store_submission(
            department=dep,
            period=period,
            file_sha256=f"{seed:064d}",
            source_filename=f"{dep}_{period}_{seed}.csv",
            adapter="test",
            records=_records(dep, period, n, seed),
            received_at=datetime(int(period[:4]), int(period[5:]), 28, tzinfo=UTC)
            if period[5:] != "12"
            else datetime(2025, 1, 5, tzinfo=UTC),
        )
    yield st
    st.dispose()


def _report(url: str) -> dict:
    return build_report(
        url, start="2024-06", end="2025-01", departments=["RJ122", "RJZ01"], now=NOW
    ).to_dict()


def _records_by_period(st) -> dict[str, int]:
    with st.engine.connect() as c:
        rows = c.execute(
            sa.select(records.c.period, sa.func.count()).group_by(records.c.period)
        ).all()
    return {str(p): int(n) for p, n in rows}


def _kept_rows(st, cutoff: str) -> list[tuple]:
    with st.engine.connect() as c:
        return sorted(
            (tuple(r) for r in c.execute(sa.select(records).where(records.c.period >= cutoff))),
            key=repr,
        )


def test_cutoff_and_config():
    assert cutoff_period(24, TODAY) == "2024-11"
    assert cutoff_period(1, datetime(2026, 1, 3, tzinfo=UTC)) == "2025-12"
    assert configured_months() == 24
    with pytest.raises(RetentionError, match="--months"):
        apply_retention(object(), 0)


def test_dry_run_changes_nothing(store):
    before = store.dump_tables()
    plan = apply_retention(store, 24, dry_run=True, today=TODAY)
    assert store.dump_tables() == before
    # by hand: 10 + 11 + (12 + 8) + (5 + 6) = 52 records of 6 submissions
    assert plan.records == 52 and plan.submissions == 6
    assert plan.by_period == {"2024-06": 10, "2024-07": 11, "2024-08": 20, "2024-10": 11}
    assert "would delete 52 records" in plan.summary()


def test_apply_deletes_expired_keeps_history(store):
    url = store.url
    report_before = _report(url)
    subs_before = store.dump_tables(["submissions", "quarantine"])
    kept_before = _kept_rows(store, "2024-11")
    assert len(kept_before) == 7 + 9 + 4

    plan = apply_retention(store, 24, today=TODAY, actor="admin-test")
    assert plan.records == 52 and not plan.dry_run

    assert _records_by_period(store) == {"2024-11": 7, "2024-12": 9, "2025-01": 4}
    assert _kept_rows(store, "2024-11") == kept_before  # untouched
    assert store.dump_tables(["submissions", "quarantine"]) == subs_before
    assert _report(url) == report_before  # compliance unchanged
    # the current version's count (8) of the re-uploaded month is what compliance still shows
    eng = sa.create_engine(url)
    try:
        stats = read_inputs(eng).record_stats.set_index(["department", "period"])
    finally:
        eng.dispose()
    assert int(stats.loc[("RJ122", "2024-08"), "records"]) == 8
    assert int(stats.loc[("RJZ01", "2024-10"), "records"]) == 6

    log = store.audit_log()
    entry = log[log["action"] == "retention.apply"].iloc[-1]
    assert entry["actor"] == "admin-test"
    detail = json.loads(entry["detail"])
    assert detail["records"] == 52 and detail["cutoff"] == "2024-11"
    assert detail["by_period"]["2024-08"] == 20

    # a second run finds nothing more and still leaves the report as it was
    again = apply_retention(store, 24, today=TODAY)
    assert again.records == 0
    assert _report(url) == report_before


def test_reupload_of_an_expired_month_counts_once(store):
    """A new version of an expired month after retention: compliance shows the new version's
    records, not the archived statistics of the superseded one as well."""
    apply_retention(store, 24, today=TODAY)
    store.store_submission(
        department="RJ122",
        period="2024-08",
        file_sha256=f"{77:064d}",
        source_filename="late_fix.csv",
        adapter="test",
        records=_records("RJ122", "2024-08", 3, 77),
    )
    eng = sa.create_engine(store.url)
    try:
        stats = read_inputs(eng).record_stats.set_index(["department", "period"])
    finally:
        eng.dispose()
    assert int(stats.loc[("RJ122", "2024-08"), "records"]) == 3
    assert int(stats.loc[("RJ122", "2024-07"), "records"]) == 11  # still from the archive
    again = apply_retention(store, 24, today=TODAY)
    assert again.records == 3 and again.by_period == {"2024-08": 3}


def test_cli_dry_run_then_apply(store):
    url = store.url
    runner = CliRunner()
    expected = plan_retention(store, 20)  # against the real clock, as the CLI runs
    res = runner.invoke(app, ["retention", "apply", "--months", "20", "--dry-run", "--db", url])
    assert res.exit_code == 0, res.output
    assert f"{expected.records}" in res.output and "would" in res.output
    assert sum(_records_by_period(store).values()) == 72
    res = runner.invoke(app, ["retention", "apply", "--months", "20", "--db", url])
    assert res.exit_code == 0, res.output
    cutoff = cutoff_period(20)
    left = _records_by_period(store)
    assert all(p >= cutoff for p in left)
    assert sum(left.values()) == 72 - expected.records


# ------------------------------------------------------------------ the real sample feeds


def test_sample_feeds_compliance_unchanged_after_retention(db_url):
    """Two EDs' sample feeds (a re-upload and a late joiner among them) ingested as the upload
    form would; retention removes the first half of 2025 and the compliance report for the whole
    year, per department and month, is identical before and after."""
    from zoneinfo import ZoneInfo

    from conftest import SAMPLE_FEEDS
    from istvhub.ingest.core import ingest_file

    manifest = SAMPLE_FEEDS / "manifest.csv"
    if not manifest.is_file():
        pytest.skip("sample feeds not generated")
    m = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    m = m[m["department"].isin(["RJ122", "R1K12"])]
    m["arrived"] = [
        datetime.fromisoformat(t).replace(tzinfo=ZoneInfo("Europe/London"))
        for t in m["received_at"]
    ]
    st = open_store(db_url)
    try:
        for r in m.sort_values("arrived").itertuples(index=False):
            ingest_file(
                SAMPLE_FEEDS / r.file,
                st,
                geocode=False,
                department=r.department,
                period=r.period,
                adapter=r.adapter,
                received_at=r.arrived,
            )

        def rep() -> dict:
            return build_report(
                db_url,
                start="2025-01",
                end="2025-12",
                departments=["RJ122", "R1K12"],
                now=NOW,
            ).to_dict()

        before = rep()
        n_before = _records_by_period(st)
        today = datetime(2027, 7, 10, tzinfo=UTC)  # 24 months -> keep 2025-07 onwards
        plan = apply_retention(st, 24, today=today)
        assert plan.cutoff == "2025-07"
        assert plan.records == sum(n for p, n in n_before.items() if p < "2025-07") > 0
        assert all(p >= "2025-07" for p in _records_by_period(st))
        after = rep()
        assert after == before
        cells = pd.DataFrame(after["cells"]).set_index(["department", "period"])
        assert cells.loc[("RJ122", "2025-02"), "records"] > 0  # old months still reported
    finally:
        st.dispose()
