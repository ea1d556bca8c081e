"""Issue 14 (the report names the line to look at): "row N (line M in your file)" counts the
physical lines of the file, so a quoted cell holding line breaks, blank lines between records
and title rows above the header (themselves spanning lines) do not shift it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from istvhub.ingest.core import ingest_bytes
from istvhub.ingest.layouts import vocabulary
from istvhub.ingest.readers import read_table
from istvhub.store import open_store

HEAD = (
    "Site_Code_of_Treatment,Reporting_Period_Start_Date,Attendance_Identifier,Arrival_Date,"
    "Arrival_Time,Assault_Date,Assault_Time,Assault_Method_Code,Assault_Location_Type_Code,"
    "Assault_Location_Description,Age_Band,Sex"
)


def _row(k: int, loc: str, weapon: str = "01") -> list[str]:
    d = f"2025-03-{1 + k % 28:02d}"
    return ["RJ122", "2025-03-01", f"K{k}", d, "10:00", d, "09:30", weapon, "01", loc, "18-24", "1"]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@pytest.fixture
def st(db_url, home):
    s = open_store(db_url)
    yield s
    s.dispose()


def test_report_lines_with_multiline_cells_blank_lines_and_title_rows(st, home: Path) -> None:
    """A two-line quoted title, a blank line, cells with line breaks: each warning names the
    line its record starts on, on both backends."""
    title = '"Assault attendances,\nSt Thomas\' Hospital"\n\n'  # lines 1-3
    body = (
        HEAD
        + "\n"  # line 4
        + _csv([_row(1, "outside the\nchip shop\non the high st")])  # lines 5-7
        + "\n"  # line 8: blank
        + _csv([_row(2, "station rd", weapon="ZZ")])  # line 9: weapon not recognised
        + _csv([_row(3, 'bus stop "by the\n\nbridge"')])  # lines 10-12
        + _csv([_row(4, "mill lane", weapon="ZZ")])  # line 13
        + ",,,,,,,,,,,\n"  # line 14: empty cells, dropped but counted as row 5
        + _csv([_row(6, "park\nroad", weapon="ZZ")])  # lines 15-16
    )
    res = ingest_bytes((title + body).encode(), "RJ122_2025-03.csv", st, geocode=False, home=home)
    assert res.status == "stored" and res.rows_accepted == 5
    assert res.header_line == 4
    weapon = {r["row"]: r["reason"] for r in res.report_rows() if "weapon" in r["reason"]}
    assert set(weapon) == {2, 4, 6}
    assert weapon[2].startswith("warning: Row 2 (line 9 in your file): ")
    assert weapon[4].startswith("warning: Row 4 (line 13 in your file): ")
    assert weapon[6].startswith("warning: Row 6 (line 15 in your file): ")
    issues = {(i["row"], i["line"]) for i in res.as_dict(with_issues=True)["issues"]}
    assert {(2, 9), (4, 13), (6, 15)} <= issues
    # the title spanning lines is still read as the title (the department's name is in it)
    t = read_table((title + body).encode(), "f.csv", vocabulary(None))
    assert t.preamble == ["Assault attendances,\nSt Thomas' Hospital"]


def test_lines_when_a_ragged_row_sends_the_file_row_by_row() -> None:
    """The lenient path (a row with more fields than the header) numbers lines the same way."""
    data = (
        "Monthly extract\n"
        + HEAD
        + "\n"
        + _csv([_row(1, "a\nb")])  # lines 3-4
        + _csv([_row(2, "x") + ["extra"]])  # line 5: ragged
        + "\n"
        + _csv([_row(3, "y")])  # line 7
    ).encode()
    t = read_table(data, "f.csv", vocabulary(None))
    assert t.bad_rows == [2] and t.header_line == 2
    assert [t.line_of(r) for r in (1, 2, 3)] == [3, 5, 7]


CELL = hs.text(alphabet=hs.sampled_from(list('ab ,"\n')), max_size=8)


@given(
    hs.lists(hs.tuples(CELL, hs.booleans()), min_size=1, max_size=12),
    hs.lists(CELL, max_size=3),
)
@settings(max_examples=150, deadline=None)
def test_line_of_every_row_matches_where_the_record_starts(cells, titles) -> None:
    """Whatever the quoting and line breaks: the line the reader names for row N is where the
    N-th record's text starts, found independently by writing the file record by record."""
    pre = "".join(_csv([[f"Title {t}"]]) for t in titles)
    text = pre + HEAD + "\n"
    starts = []
    for k, (loc, blank_after) in enumerate(cells, 1):
        starts.append(text.count("\n") + 1)
        text += _csv([_row(k, loc)]) + ("\n" if blank_after else "")
    t = read_table(text.encode(), "f.csv", vocabulary(None))
    assert t.header_line == pre.count("\n") + 1
    assert len(t.frame) == len(cells)
    assert [t.line_of(r) for r in range(1, len(cells) + 1)] == starts
