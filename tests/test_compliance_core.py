"""Sharing compliance: deadlines, expected months, RAG and consistency on hand-made frames."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub.compliance.columns import CELL_COLUMNS
from istvhub.compliance.deadlines import check_period, due_at, on_time
from istvhub.compliance.grid import build_grid, summarise_records
from istvhub.compliance.report import compliance_report, consistency
from istvhub.compliance.rules import ComplianceError, Rules, Threshold, load_rules
from istvhub.core.periods import month_add, month_range

NOW = datetime(2027, 1, 1, tzinfo=UTC)
periods = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1990, 2100), st.integers(1, 12))


# ----------------------------------------------------------------------------- deadlines


def test_year_end_deadline_is_20_january_london():
    d = due_at("2025-12")
    assert (d.year, d.month, d.day, d.hour, d.minute, d.second) == (2026, 1, 20, 23, 59, 59)
    assert str(d.tzinfo) == "Europe/London"
    # GMT in January: the deadline in UTC is the same wall time
    assert on_time(datetime(2026, 1, 20, 23, 59, 59, tzinfo=UTC), "2025-12")
    assert not on_time(datetime(2026, 1, 21, 0, 0, 0, tzinfo=UTC), "2025-12")


def test_summer_deadline_is_british_summer_time():
    # 2025-06 is due 2025-07-20 23:59:59 BST = 22:59:59 UTC
    assert on_time(datetime(2025, 7, 20, 22, 59, 59, tzinfo=UTC), "2025-06")
    assert not on_time(datetime(2025, 7, 20, 23, 30, tzinfo=UTC), "2025-06")
    # naive times from the store are UTC
    assert not on_time("2025-07-20 23:30:00", "2025-06")


@pytest.mark.parametrize(
    ("period", "day", "expected"),
    [
        ("2025-01", 31, (2025, 2, 28)),  # February clamps
        ("2024-01", 31, (2024, 2, 29)),  # leap February
        ("2025-03", 31, (2025, 4, 30)),  # 30-day month
        ("2025-11", 31, (2025, 12, 31)),
        ("2025-12", 31, (2026, 1, 31)),  # across the year end
        ("2025-12", 1, (2026, 1, 1)),
    ],
)
def test_due_day_clamps_to_month_length(period, day, expected):
    d = due_at(period, day)
    assert (d.year, d.month, d.day) == expected


@settings(deadline=None)
@given(periods, st.integers(1, 31))
def test_deadline_always_in_following_month_after_period_end(period, day):
    d = due_at(period, day)
    nxt = month_add(period, 1)
    assert f"{d.year:04d}-{d.month:02d}" == nxt
    y, m = int(period[:4]), int(period[5:])
    last = datetime(y, m, calendar.monthrange(y, m)[1], 23, 59, 59, tzinfo=d.tzinfo)
    assert d - last >= timedelta(days=1) - timedelta(hours=1)


@settings(deadline=None)
@given(periods, st.integers(-300, 300))
def test_month_add_round_trip_and_range_length(period, n):
    q = month_add(period, n)
    assert check_period(q) == q
    assert month_add(q, -n) == period
    lo, hi = sorted([period, q])
    assert len(month_range(lo, hi)) == abs(n) + 1


@pytest.mark.parametrize("bad", ["2025-13", "2025-1", "25-01", "2025/01", "", "2025-00"])
def test_bad_period_is_rejected_naming_the_field(bad):
    with pytest.raises(ComplianceError, match="'from'"):
        check_period(bad, field_name="from")


# ----------------------------------------------------------------------------- grid


def _deps(**since):
    codes = ["AAA01", "BBB01", "CCC01"]
    return pd.DataFrame(
        {
            "ods_code": codes,
            "name": ["Alpha", "Beta", "Gamma"],
            "dept_type": ["01"] * 3,
            "borough": ["Camden", "Brent", "Sutton"],
            "sharing_since": [since.get(c) for c in codes],
        }
    )


def _sub(dep, period, version=1, *, late_days=0, status="current", quarantined=0):
    due = due_at(period)
    rec = (due - timedelta(days=5)) if late_days == 0 else due + timedelta(days=late_days)
    return dict(
        department=dep,
        period=period,
        version=version,
        status=status,
        received_at=rec.astimezone(UTC),
        rows_total=10,
        rows_accepted=10 - quarantined,
        rows_quarantined=quarantined,
        rows_skipped=0,
    )


def _stats(dep, period, n=10, *, text=None, geocoded=None, located=None, home=0):
    text = n if text is None else text
    d = dict(
        department=dep,
        period=period,
        records=n,
        n_incident_date=n,
        n_incident_time=n,
        n_location_text=text,
        n_location_type=n,
        n_weapon=n,
        n_geocoded=n if geocoded is None else geocoded,
        n_located=(n - home) if located is None else located,
        n_home=home,
        n_unknown=0,
        n_unmatched=0,
        n_outside_area=0,
        n_ambiguous=0,
    )
    if geocoded == 0:
        d.update(n_located=0, n_home=0)
    return d


def _grid(subs, stats, start="2025-01", end="2025-12", deps=None, rules=Rules(), now=NOW):
    return build_grid(
        deps if deps is not None else _deps(),
        pd.DataFrame(subs),
        pd.DataFrame(stats),
        start,
        end,
        rules=rules,
        now=now,
    )


def _cell(grid, dep, period):
    row = grid[(grid["department"] == dep) & (grid["period"] == period)]
    assert len(row) == 1
    return row.iloc[0]


def test_every_department_and_month_is_a_cell_with_all_columns():
    g = _grid([_sub("AAA01", "2025-03")], [_stats("AAA01", "2025-03")])
    assert len(g) == 3 * 12
    assert tuple(g.columns) == CELL_COLUMNS


def test_missing_month_is_red_and_on_time_month_green():
    g = _grid([_sub("AAA01", "2025-03")], [_stats("AAA01", "2025-03")])
    c = _cell(g, "AAA01", "2025-03")
    assert (c["status"], c["rag"], c["on_time"], c["versions"]) == ("received", "green", True, 1)
    m = _cell(g, "AAA01", "2025-04")
    assert (m["status"], m["rag"], m["reasons"]) == ("missing", "red", "missing")


def test_department_joined_part_way_is_not_expected_before_joining():
    deps = _deps(BBB01="2025-07")
    subs = [_sub("BBB01", p) for p in month_range("2025-07", "2025-12")]
    stats = [_stats("BBB01", p) for p in month_range("2025-07", "2025-12")]
    g = _grid(subs, stats, deps=deps)
    before = g[(g["department"] == "BBB01") & (g["period"] < "2025-07")]
    assert len(before) == 6
    assert set(before["status"]) == {"not_expected"}
    assert set(before["rag"]) == {"grey"}
    assert not before["expected"].any()
    after = g[(g["department"] == "BBB01") & (g["period"] >= "2025-07")]
    assert set(after["rag"]) == {"green"}
    cons = consistency(g, "2025-12").set_index("department")
    # 6 expected months, all green: consistent (needs ceil(10 * 6 / 12) = 5)
    assert cons.loc["BBB01", "expected_months"] == 6
    assert cons.loc["BBB01", "required_months"] == 5
    assert bool(cons.loc["BBB01", "consistent"])


def test_late_is_amber_and_counts_days():
    g = _grid([_sub("AAA01", "2025-12", late_days=3)], [_stats("AAA01", "2025-12")])
    c = _cell(g, "AAA01", "2025-12")
    assert c["on_time"] is False
    assert c["days_late"] == 3
    assert c["rag"] == "amber"
    assert c["reasons"].startswith("late")


def test_reupload_counts_versions_and_keeps_first_arrival():
    first = _sub("AAA01", "2025-05", 1, status="superseded")
    second = _sub("AAA01", "2025-05", 2, late_days=10)
    g = _grid([second, first], [_stats("AAA01", "2025-05")])
    c = _cell(g, "AAA01", "2025-05")
    assert c["versions"] == 2
    assert c["on_time"] is True  # judged on when the month first arrived
    assert c["received_at"] < c["last_received_at"]


def test_thresholds_one_below_amber_two_below_red():
    subs = [_sub("AAA01", p) for p in ("2025-01", "2025-02", "2025-03")]
    stats = [
        _stats("AAA01", "2025-01", 100, text=85),  # text below 90%
        _stats("AAA01", "2025-02", 100, text=85, located=50, home=0),  # text and located
        _stats("AAA01", "2025-03", 100, text=95, located=30, home=50),  # 30/50 non-home = 60%
    ]
    g = _grid(subs, stats)
    assert _cell(g, "AAA01", "2025-01")["rag"] == "amber"
    assert _cell(g, "AAA01", "2025-02")["rag"] == "red"
    c = _cell(g, "AAA01", "2025-03")
    assert c["share_located_of_non_home"] == pytest.approx(0.6)
    assert c["rag"] == "green"


def test_late_plus_one_breach_depends_on_rule():
    subs = [_sub("AAA01", "2025-01", late_days=2)]
    stats = [_stats("AAA01", "2025-01", 100, text=80)]
    assert _cell(_grid(subs, stats), "AAA01", "2025-01")["rag"] == "amber"
    strict = Rules(late_counts_as_breach=True)
    assert _cell(_grid(subs, stats, rules=strict), "AAA01", "2025-01")["rag"] == "red"


def test_not_geocoded_means_located_criterion_is_not_applicable():
    g = _grid([_sub("AAA01", "2025-01")], [_stats("AAA01", "2025-01", 50, geocoded=0)])
    c = _cell(g, "AAA01", "2025-01")
    assert pd.isna(c["share_located_of_non_home"]) and pd.isna(c["share_located"])
    assert c["rag"] == "green"


def test_unreceived_month_not_yet_due_is_pending_not_missing():
    now = datetime(2026, 1, 10, tzinfo=UTC)  # 2025-12 due 2026-01-20
    g = _grid([], [], now=now)
    c = _cell(g, "AAA01", "2025-12")
    assert (c["status"], c["rag"]) == ("pending", "grey")
    assert _cell(g, "AAA01", "2025-11")["status"] == "missing"


def test_sudden_drop_against_trailing_median():
    months = month_range("2025-01", "2025-08")
    n = [100, 110, 90, 105, 95, 100, 40, 100]
    subs = [_sub("AAA01", p) for p in months]
    stats = [_stats("AAA01", p, k) for p, k in zip(months, n, strict=True)]
    g = _grid(subs, stats, end="2025-08")
    c = _cell(g, "AAA01", "2025-07")
    assert c["trailing_median"] == pytest.approx(100.0)
    assert bool(c["drop_flag"]) and "sudden drop" in c["reasons"]
    assert not bool(_cell(g, "AAA01", "2025-08")["drop_flag"])  # median incl. the dip is 100
    # too little history: no median, no flag
    assert pd.isna(_cell(g, "AAA01", "2025-02")["trailing_median"])
    assert c["rag"] == "green"  # by default a drop flags, it does not change the RAG
    g2 = _grid(subs, stats, end="2025-08", rules=Rules(drop_counts_as_breach=True))
    assert _cell(g2, "AAA01", "2025-07")["rag"] == "amber"


def test_completeness_shares_from_counts():
    st_ = _stats("AAA01", "2025-01", 40)
    st_.update(n_incident_time=30, n_weapon=10, n_location_type=20)
    g = _grid([_sub("AAA01", "2025-01", quarantined=3)], [st_])
    c = _cell(g, "AAA01", "2025-01")
    assert c["complete_incident_time"] == pytest.approx(0.75)
    assert c["complete_weapon"] == pytest.approx(0.25)
    assert c["complete_location_type"] == pytest.approx(0.5)
    assert c["rows_quarantined"] == 3


# ----------------------------------------------------------------------------- consistency


@pytest.mark.parametrize(("n_missing", "consistent"), [(0, True), (2, True), (3, False)])
def test_consistency_ten_of_last_twelve(n_missing, consistent):
    months = month_range("2025-01", "2025-12")
    got = months[n_missing:]
    subs = [_sub("AAA01", p) for p in got]
    stats = [_stats("AAA01", p) for p in got]
    rep = compliance_report(
        _deps(),
        pd.DataFrame(subs),
        pd.DataFrame(stats),
        start="2025-01",
        end="2025-12",
        only=["aaa01"],
        now=NOW,
    )
    d = rep.departments.set_index("department").loc["AAA01"]
    assert d["ok_months"] == 12 - n_missing
    assert bool(d["consistent"]) is consistent
    assert rep.summary["line"] == f"{int(consistent)} of 1 departments sharing consistently"


def test_london_summary_counts_only_departments_that_have_agreed():
    deps = _deps(CCC01="2026-03")  # joins after the report's end
    subs = [_sub(d, p) for d in ("AAA01", "BBB01") for p in month_range("2025-01", "2025-12")]
    stats = [_stats(d, p) for d in ("AAA01", "BBB01") for p in month_range("2025-01", "2025-12")]
    subs = [s for s in subs if not (s["department"] == "BBB01" and s["period"] > "2025-08")]
    rep = compliance_report(deps, pd.DataFrame(subs), pd.DataFrame(stats), now=NOW)
    assert (rep.start, rep.end) == ("2025-01", "2025-12")
    assert rep.summary["line"] == "1 of 2 departments sharing consistently"
    assert rep.summary["departments_agreed"] == 2


def test_report_range_and_department_filter_validation():
    with pytest.raises(ComplianceError, match="'department'"):
        compliance_report(_deps(), pd.DataFrame(), pd.DataFrame(), only=["ZZZ99"], now=NOW)
    with pytest.raises(ComplianceError, match="'to'"):
        compliance_report(
            _deps(), pd.DataFrame(), pd.DataFrame(), start="2025-05", end="2025-01", now=NOW
        )
    rep = compliance_report(_deps(), pd.DataFrame(), pd.DataFrame(), now=NOW)
    assert (rep.start, rep.end) == ("2026-01", "2026-12")  # nothing received: last 12 months


def test_drop_median_uses_months_before_the_report_start():
    months = month_range("2025-01", "2025-12")
    n = [100] * 11 + [30]
    subs = [_sub("AAA01", p) for p in months]
    stats = [_stats("AAA01", p, k) for p, k in zip(months, n, strict=True)]
    rep = compliance_report(
        _deps(),
        pd.DataFrame(subs),
        pd.DataFrame(stats),
        start="2025-12",
        end="2025-12",
        only=["AAA01"],
        now=NOW,
    )
    assert len(rep.cells) == 1
    assert bool(rep.cells.iloc[0]["drop_flag"])
    assert rep.departments.iloc[0]["ok_months"] == 12  # the window still spans 12 months


# ----------------------------------------------------------------------------- records, rules


def test_summarise_records_counts_each_field():
    recs = pd.DataFrame(
        {
            "department": ["AAA01"] * 4 + ["BBB01"],
            "period": ["2025-01"] * 4 + ["2025-02"],
            "incident_date": ["2025-01-01", None, "2025-01-03", "2025-01-04", None],
            "incident_time": [None, None, "10:00", "11:00", "12:00"],
            "location_text": ["o/s tesco", "  ", None, "home", "x"],
            "location_type": ["street", "unknown", "home", "home", "unknown"],
            "weapon": ["sharp", "unknown", "unknown", "body_part", "unknown"],
            "geo_status": ["located", "unknown", "home", "home", None],
        }
    )
    s = summarise_records(recs).set_index(["department", "period"])
    a = s.loc[("AAA01", "2025-01")]
    assert a["records"] == 4
    assert (a["n_incident_date"], a["n_incident_time"], a["n_location_text"]) == (3, 2, 2)
    assert (a["n_location_type"], a["n_weapon"], a["n_geocoded"]) == (3, 2, 4)
    assert (a["n_located"], a["n_home"], a["n_unknown"], a["n_unmatched"]) == (1, 2, 1, 0)
    b = s.loc[("BBB01", "2025-02")]
    assert (b["records"], b["n_geocoded"], b["n_location_type"]) == (1, 0, 0)


def test_shipped_rules_file_matches_documented_defaults(tmp_path):
    r = load_rules()
    assert r.due_day == 20 and r.timezone == "Europe/London"
    assert (r.window_months, r.min_ok_months) == (12, 10)
    assert {t.metric: t.min for t in r.thresholds} == {
        "complete_location_text": 0.90,
        "share_located_of_non_home": 0.60,
    }
    assert r.drop_fraction == 0.5 and r.trailing_months == 6
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rag.thresholds]]\nmetric = "nonsense"\nmin = 0.5\n')
    with pytest.raises(ComplianceError, match="metric"):
        load_rules(bad)
    custom = tmp_path / "c.toml"
    custom.write_text(
        "[deadline]\ndue_day = 5\n[[rag.thresholds]]\n"
        'metric = "complete_weapon"\nmin = 0.8\nlabel = "weapon"\n'
    )
    c = load_rules(custom)
    assert c.due_day == 5 and c.thresholds == (Threshold("complete_weapon", 0.8, "weapon"),)


month_cells = st.lists(
    st.tuples(st.integers(0, 11), st.booleans(), st.integers(0, 100), st.integers(0, 100)),
    max_size=12,
    unique_by=lambda t: t[0],
)


@settings(max_examples=60, deadline=None)  # the grid is built per example; no timing here
@given(month_cells, st.integers(0, 12))
def test_rag_follows_the_rules_for_any_month_pattern(cells_in, join_at):
    """For any pattern of received/late months and shares, each cell's colour is the rule's."""
    months = month_range("2025-01", "2025-12")
    since = months[join_at] if join_at < 12 else None
    deps = _deps(AAA01=since)
    subs, stats = [], []
    for i, late, text, located in cells_in:
        subs.append(_sub("AAA01", months[i], late_days=2 if late else 0))
        stats.append(_stats("AAA01", months[i], 100, text=text, located=located))
    g = _grid(subs, stats, deps=deps)
    g = g[g["department"] == "AAA01"].set_index("period")
    got = {months[i]: (late, text, located) for i, late, text, located in cells_in}
    for p, c in g.iterrows():
        if p in got:
            late, text, located = got[p]
            breaches = (text < 90) + (located < 60)
            want = "red" if breaches >= 2 else "amber" if late or breaches else "green"
            assert (c["status"], c["rag"], c["versions"]) == ("received", want, 1)
            assert c["complete_location_text"] == pytest.approx(text / 100)
        elif since is not None and p < since:
            assert (c["status"], c["rag"]) == ("not_expected", "grey")
        else:
            assert (c["status"], c["rag"]) == ("missing", "red")
    cons = consistency(g.reset_index(), "2025-12").iloc[0]
    expected = g[g["expected"]]
    assert cons["expected_months"] == len(expected)
    assert cons["ok_months"] == int(expected["rag"].isin(["green", "amber"]).sum())
