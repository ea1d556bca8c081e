"""Equality breakdowns: primary + secondary suppression checked by an attacker that tries to
recover every hidden count by subtraction from its rows, columns and totals; the store read and the
CLI on both backends."""

from __future__ import annotations

import hashlib
from datetime import datetime
from itertools import product

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from istvhub.cli import app
from istvhub.disclosure.rules import DisclosureRule, get_rule
from istvhub.equality.core import (
    DIMENSIONS,
    TOTAL,
    EqualityError,
    breakdown,
    cube_from_counts,
    parse_by,
    protect_cube,
)
from istvhub.equality.render import to_csv, to_html
from istvhub.records import make_record_id
from istvhub.store import open_store

#: Suppress 1-7 but do not round, so that subtraction would recover a hidden count exactly.
EXACT = DisclosureRule(
    name="exact",
    label="test: suppress 1-7, no rounding",
    suppress_max=7,
    round_to=1,
    secondary=True,
)
NO_SECONDARY = DisclosureRule(
    name="nosec", label="test: primary only", suppress_max=7, round_to=1, secondary=False
)


def recover_by_subtraction(ext: np.ndarray, hidden: np.ndarray) -> dict[tuple, float]:
    """The attacker: every line (cells along one axis plus its total) is ``sum = total``. Any line
    with exactly one unknown entry gives it away; recovered entries become known, repeat."""
    known = ~hidden
    got: dict[tuple, float] = {}
    changed = True
    while changed:
        changed = False
        for ax in range(ext.ndim):
            n = ext.shape[ax]
            others = [range(s) for i, s in enumerate(ext.shape) if i != ax]
            for fixed in product(*others):
                idx = [list(fixed[:ax]) + [k] + list(fixed[ax:]) for k in range(n)]
                unknown = [tuple(i) for i in idx if not known[tuple(i)]]
                if len(unknown) != 1:
                    continue
                u = unknown[0]
                cells, total = [tuple(i) for i in idx[:-1]], tuple(idx[-1])
                if u == total:
                    val = sum(ext[c] for c in cells)
                else:
                    val = ext[total] - sum(ext[c] for c in cells if c != u)
                got[u] = float(val)
                known[u] = True
                changed = True
    return got


def _counts(cells: dict[tuple[str, str], int]) -> pd.DataFrame:
    return pd.DataFrame([{"age_band": a, "sex": s, "n": n} for (a, s), n in cells.items()])


HAND = {
    ("18-24", "male"): 20,
    ("18-24", "female"): 3,
    ("25-34", "male"): 15,
    ("25-34", "female"): 12,
    ("35-44", "male"): 9,
    ("35-44", "female"): 10,
}


def hidden_small_sums(ext: np.ndarray, hidden: np.ndarray, small: int = 7) -> list[float]:
    """The attacker's second tool: a line whose total is published gives the sum of its hidden
    cells (total minus the published ones); a sum of 1..small is a small count disclosed."""
    out: list[float] = []
    for ax in range(ext.ndim):
        v = np.moveaxis(ext, ax, -1).reshape(-1, ext.shape[ax])
        h = np.moveaxis(hidden, ax, -1).reshape(-1, ext.shape[ax])
        for vals, hid in zip(v, h, strict=True):
            if hid[-1] or not hid[:-1].any():
                continue
            s = float(vals[-1] - vals[:-1][~hid[:-1]].sum())
            if 0 < s <= small:
                out.append(s)
    return out


def test_hand_table_secondary_suppression_by_hand():
    """Worked by hand. Primary: the 3 and every zero are hidden (zero and small look the same).
    Row 18-24's hidden cells then sum to 23 - 20 = 3, a small count: the 20 goes. Column female
    (25) still gives 25 - 12 - 10 = 3: the 10 goes. Column male hides 20, row 35-44 hides 10:
    fixed point, with 25-34 (15, 12) and 35-44 male (9) published."""
    by = ("age_band", "sex")
    t = breakdown(_counts(HAND), by, EXACT, scope="test", start="2025-01", end="2025-03")
    shown = {(r.age_band, r.sex) for r in t.frame.itertuples() if not r.suppressed}
    cells = {c for c in shown if TOTAL not in c}
    assert cells == {("25-34", "male"), ("25-34", "female"), ("35-44", "male")}
    assert t.cell(age_band="25-34", sex="male") == 15
    assert t.cell(age_band="25-34") == 27  # row total
    assert t.cell(sex="female") == 25  # column total
    assert t.cell() == 69  # grand total
    assert t.cell(age_band="0-15", sex="male") is None  # a zero looks like a small count
    assert t.cell(age_band="18-24", sex="female") is None


def test_attacker_recovers_without_secondary_and_not_with_it():
    by = ("age_band", "sex")
    ext = cube_from_counts(_counts(HAND), by)
    _, hidden_primary = protect_cube(ext, NO_SECONDARY)
    # the checkers work: primary alone leaks the 3 as row 18-24's hidden sum (23 - 20)
    assert 3.0 in hidden_small_sums(ext, hidden_primary)
    _, hidden = protect_cube(ext, EXACT)
    assert recover_by_subtraction(ext, hidden) == {}
    assert hidden_small_sums(ext, hidden) == []


@given(
    st.dictionaries(
        st.tuples(st.sampled_from(DIMENSIONS["age_band"]), st.sampled_from(DIMENSIONS["sex"])),
        st.integers(0, 40),
        max_size=12,
    )
)
def test_no_small_count_or_presence_recoverable(cells):
    """Any table: zeros and 1-7 are hidden alike, no hidden entry comes back by subtraction and
    no line's hidden cells sum to 1-7."""
    ext = cube_from_counts(
        _counts(cells) if cells else _counts({("18-24", "male"): 0}), ("age_band", "sex")
    )
    _, hidden = protect_cube(ext, EXACT)
    assert (hidden | (ext >= 8)).all()
    assert recover_by_subtraction(ext, hidden) == {}
    assert hidden_small_sums(ext, hidden) == []


def test_default_rule_rounds_published_counts():
    t = breakdown(
        _counts(HAND),
        ("age_band", "sex"),
        get_rule("nhs_hes"),
        scope="t",
        start="2025-01",
        end="2025-01",
    )
    assert t.cell(age_band="25-34", sex="female") == 10  # 12 -> 10
    assert t.cell(age_band="25-34") == 25  # 27 -> 25
    assert t.cell() == 70  # 69 -> 70
    assert t.cell(age_band="18-24", sex="female") is None


def test_hidden_margin_is_protected_too():
    """A row whose total is small hides the total and (then) its only cell(s)."""
    cells = {
        ("16-17", "male"): 4,
        ("16-17", "female"): 2,
        ("25-34", "male"): 30,
        ("25-34", "female"): 25,
    }
    by = ("age_band", "sex")
    ext = cube_from_counts(_counts(cells), by)
    _, hidden = protect_cube(ext, EXACT)
    ia = DIMENSIONS["age_band"].index("16-17")
    assert hidden[ia, -1]  # the row total 6 is itself small
    assert recover_by_subtraction(ext, hidden) == {}


levels = {d: list(v) for d, v in DIMENSIONS.items()}


@st.composite
def tables(draw):
    dims = draw(
        st.sampled_from(
            [("age_band", "sex"), ("sex", "weapon"), ("age_band", "sex", "weapon"), ("weapon",)]
        )
    )
    rows = draw(
        st.lists(
            st.tuples(*[st.sampled_from(levels[d]) for d in dims], st.integers(1, 40)),
            min_size=1,
            max_size=25,
        )
    )
    df = pd.DataFrame([dict(zip((*dims, "n"), r, strict=True)) for r in rows])
    df = df.groupby(list(dims), as_index=False)["n"].sum()
    return dims, df


@settings(max_examples=60, deadline=None)
@given(tables())
def test_property_no_hidden_count_recoverable(tab):
    dims, df = tab
    ext = cube_from_counts(df, dims)
    _, hidden = protect_cube(ext, EXACT)
    assert hidden[(ext > 0) & (ext <= 7)].all()  # every primary cell hidden
    assert recover_by_subtraction(ext, hidden) == {}  # and none can be worked out
    for ax in range(ext.ndim):  # no line with exactly one hidden entry
        s = np.moveaxis(hidden, ax, -1).reshape(-1, ext.shape[ax]).sum(axis=1)
        assert not (s == 1).any()
    assert ext[(-1,) * len(dims)] == df["n"].sum()  # grand total is the sum


def test_parse_by():
    assert parse_by("age_band, Sex") == ("age_band", "sex")
    assert parse_by(None) == ("age_band", "sex", "weapon", "location_type")
    with pytest.raises(EqualityError, match="--by"):
        parse_by("ethnicity")


def test_renderers_show_hidden_as_star_and_blank():
    t = breakdown(
        _counts(HAND), ("age_band", "sex"), EXACT, scope="London", start="2025-01", end="2025-03"
    )
    csv = to_csv(t)
    assert csv.splitlines()[0] == "age_band,sex,count,suppressed"
    assert "18-24,female,,true" in csv and "25-34,male,15,false" in csv
    assert f"{TOTAL},{TOTAL},69,false" in csv
    page = to_html(t)
    assert "<table>" in page and "*" in page and "<script" not in page


# ------------------------------------------------------------------ store + CLI (both backends)


def _seed(db_url: str) -> None:
    """Two EDs, two months; records located in Westminster or Camden, some not located."""
    store = open_store(db_url)
    spec = [  # department, period, borough, age_band, sex, weapon, n
        ("RJ122", "2025-03", "Westminster", "18-24", "male", "sharp", 12),
        ("RJ122", "2025-03", "Westminster", "18-24", "female", "body_part", 3),
        ("RJ122", "2025-04", "Westminster", "25-34", "male", "body_part", 20),
        ("RJ122", "2025-04", "Camden", "25-34", "female", "glass", 9),
        ("RJZ01", "2025-03", None, "35-44", "male", "blunt", 14),
        ("RJZ01", "2025-05", "Westminster", "18-24", "male", "sharp", 30),  # outside the range
    ]
    by_sub: dict[tuple[str, str], list[dict]] = {}
    for dep, period, bor, age, sex, weapon, n in spec:
        rows = by_sub.setdefault((dep, period), [])
        for _ in range(n):
            i = len(rows)
            rows.append(
                {
                    "record_id": make_record_id(dep, f"{period}-{i}"),
                    "department": dep,
                    "period": period,
                    "source_row": i + 1,
                    "arrival_at": datetime(int(period[:4]), int(period[5:]), 1 + i % 27, 22, 0),
                    "location_text": None,
                    "location_type": "street",
                    "weapon": weapon,
                    "weapon_text": None,
                    "age_band": age,
                    "sex": sex,
                    "geo_status": "located" if bor else "unmatched",
                    "borough": bor,
                }
            )
    for (dep, period), rows in by_sub.items():
        store.store_submission(
            department=dep,
            period=period,
            file_sha256=hashlib.sha256(f"{dep}{period}".encode()).hexdigest(),
            source_filename=f"{dep}_{period}.csv",
            adapter="test",
            records=pd.DataFrame(rows),
        )
    store.dispose()


def _run(*args: str) -> str:
    res = CliRunner().invoke(app, ["equality", *args])
    assert res.exit_code == 0, res.output
    return res.output


def _frame(csv_text: str) -> pd.DataFrame:
    from io import StringIO

    return pd.read_csv(StringIO(csv_text), dtype=str, keep_default_na=False)


def test_cli_london_borough_department(db_url, tmp_path):
    _seed(db_url)
    common = [
        "--from",
        "2025-03",
        "--to",
        "2025-04",
        "--by",
        "age_band,sex",
        "--db",
        db_url,
        "--rule",
        "nhs_hes",
    ]
    london = _frame(_run(*common))
    grand = london[(london.age_band == TOTAL) & (london.sex == TOTAL)].iloc[0]
    # 12+3+20+9+14 = 58 (30 in 2025-05 is out of range), perturbed by its cell key (+-2), rounded
    assert grand["count"] in ("55", "60")
    # 3 hidden; its row total 15 and column... the female column (3 + 9 = 12) keeps it company
    lf = london[(london.age_band == "18-24") & (london.sex == "female")].iloc[0]
    assert lf["suppressed"] == "true" and lf["count"] == ""

    west = _frame(_run(*common, "--borough", "westminster"))
    g = west[(west.age_band == TOTAL) & (west.sex == TOTAL)].iloc[0]
    assert g["count"] == "35"  # 12 + 3 + 20 = 35: Camden and unlocated records are out
    assert west[(west.age_band == "18-24") & (west.sex == "male")].iloc[0]["suppressed"] == "true"

    dep = _frame(_run(*common, "--department", "rjz01"))
    g = dep[(dep.age_band == TOTAL) & (dep.sex == TOTAL)].iloc[0]
    assert g["count"] in ("10", "15")  # 14 +- 2, rounded

    out = tmp_path / "eq.html"
    _run(*common, "--format", "html", "--output", str(out))
    assert "London" in out.read_text() and "<table>" in out.read_text()


def test_cli_rejects_borough_and_department_together(db_url):
    _seed(db_url)
    res = CliRunner().invoke(
        app,
        [
            "equality",
            "--from",
            "2025-03",
            "--to",
            "2025-04",
            "--db",
            db_url,
            "--borough",
            "Camden",
            "--department",
            "RJ122",
        ],
    )
    assert res.exit_code != 0


# ------------------------------------------------------------------ the real sample feeds


def test_sample_feeds_four_way_table_is_safe(db_url):
    """Two EDs' sample feeds ingested: the full 4-way London cube with all margins. Every small
    count is hidden, primary suppression alone leaks counts by subtraction, and with secondary
    suppression none can be recovered; the grand total is the accepted rows of the current
    versions, rounded."""
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa

    from conftest import SAMPLE_FEEDS
    from istvhub.equality.read import read_counts
    from istvhub.ingest.core import ingest_file

    manifest = SAMPLE_FEEDS / "manifest.csv"
    if not manifest.is_file():
        pytest.skip("sample feeds not generated")
    m = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    m = m[m["department"].isin(["RJ122", "RJZ01"]) & (m["period"] <= "2025-06")]
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
        subs = st.submissions(current_only=True)
        accepted = int(subs["rows_accepted"].sum())
        by = ("age_band", "sex", "weapon", "location_type")
        eng = sa.create_engine(db_url)
        try:
            counts = read_counts(eng, by, start="2025-01", end="2025-06")
        finally:
            eng.dispose()
    finally:
        st.dispose()
    assert int(counts["n"].sum()) == accepted > 0
    rule = get_rule("nhs_hes")
    ext = cube_from_counts(counts, by)
    _, primary_only = protect_cube(
        ext, DisclosureRule(name="p", label="p", suppress_max=7, round_to=5, secondary=False)
    )
    assert recover_by_subtraction(ext, primary_only)  # the real table does leak without it
    values, hidden = protect_cube(ext, rule)
    assert hidden[(ext > 0) & (ext <= 7)].all()
    assert recover_by_subtraction(ext, hidden) == {}
    assert values[(-1,) * 4] == rule.round(np.array([accepted]))[0]
