"""Fuzzing the ingest path (issue 8.6) with hypothesis: random headers (real ones from every
sample layout mixed with junk), random values, delimiters and encodings. Whatever comes in,
ingest either stores a whole, consistent submission or raises FileRejected with nothing stored:
never another exception, never partial data."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from istvhub._errors import FileRejected
from istvhub.ingest.core import ingest_bytes
from istvhub.ingest.layouts import vocabulary
from istvhub.ingest.readers import read_table
from istvhub.store import open_store

FEEDS = Path(__file__).resolve().parents[1] / "sample_feeds"


def _real_headers() -> list[str]:
    out: list[str] = []
    for d in sorted(FEEDS.iterdir()):
        for f in sorted(d.glob("*.csv"))[:1] + sorted(d.glob("*.txt"))[:1]:
            raw = f.read_bytes().decode("utf-8-sig", errors="replace")
            for row in csv.reader(io.StringIO(raw)):
                if len(row) > 3:
                    out += [c for c in row if c.strip()]
                    break
    return sorted(set(out))


REAL_HEADERS = _real_headers()
VALUES = st.one_of(
    st.sampled_from(
        [
            "RJ122",
            "RJZ01",
            "2025-06-01",
            "2025-06-30",
            "01/06/2025",
            "23:59",
            "25:61",
            "02",
            "99",
            "1",
            "M",
            "F",
            "18-24",
            "65+",
            "knife",
            "",
            "o/s tesco SE1 7EH",
            "his home",
            "John Smith",
            "943 476 5919",
            "12/03/1980",
            "SW1A 2AA",
            '=HYPERLINK("x")',
            "+cmd|' /C calc'!A0",
        ]
    ),
    st.text(max_size=30),
)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1")


@st.composite
def csv_files(draw) -> tuple[str, bytes, str]:
    n_cols = draw(st.integers(1, 16))
    header = draw(
        st.lists(
            st.one_of(st.sampled_from(REAL_HEADERS), st.text(max_size=20)),
            min_size=n_cols,
            max_size=n_cols,
        )
    )
    rows = draw(st.lists(st.lists(VALUES, min_size=0, max_size=n_cols + 2), max_size=12))
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim)
    for _ in range(draw(st.integers(0, 2))):  # title rows above the header
        w.writerow([draw(st.text(max_size=20))])
    w.writerow(header)
    w.writerows(rows)
    enc = draw(st.sampled_from(ENCODINGS))
    data = buf.getvalue().encode(enc, errors="ignore")
    if draw(st.booleans()):  # bit flips: truncated or corrupted bytes
        k = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1 :]
    return "fuzz.csv", data, "RJ122"


SAMPLES = [
    (code, list(csv.reader(io.StringIO(f.read_text(encoding="utf-8-sig")), delimiter=delim))[:15])
    for code, f, delim in (
        ("RJ122", FEEDS / "RJ122" / "RJ122_2025-06.csv", ","),
        ("RJZ01", FEEDS / "RJZ01" / "RJZ01_2025-05.csv", ","),
        ("RQXM1", FEEDS / "RQXM1" / "RQXM1_2025-01.csv", ";"),
    )
]


@st.composite
def mutated_real(draw) -> tuple[str, bytes, str]:
    """A real extract with random damage: cells replaced, a column dropped or added, a header
    renamed, then re-encoded with any delimiter and encoding."""
    code, sample = draw(st.sampled_from(SAMPLES))
    rows = [list(r) for r in sample]
    width = len(rows[0])
    for _ in range(draw(st.integers(0, 12))):
        i = draw(st.integers(1, len(rows) - 1))
        j = draw(st.integers(0, width - 1))
        if j < len(rows[i]):
            rows[i][j] = draw(VALUES)
    if draw(st.booleans()):
        j = draw(st.integers(0, width - 1))
        rows = [r[:j] + r[j + 1 :] for r in rows]
    if draw(st.booleans()):
        rows[0].append(draw(st.one_of(st.sampled_from(REAL_HEADERS), st.text(max_size=12))))
    if draw(st.integers(0, 4)) == 0:
        j = draw(st.integers(0, len(rows[0]) - 1))
        rows[0][j] = draw(st.text(max_size=12))
    buf = io.StringIO()
    csv.writer(buf, delimiter=draw(st.sampled_from([",", ";", "\t", "|"]))).writerows(rows)
    data = buf.getvalue().encode(draw(st.sampled_from(ENCODINGS)), errors="ignore")
    return f"{code}_fuzz.csv", data, code


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    yield s
    s.dispose()


TABLES = ["submissions", "records", "quarantine"]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    upload=st.one_of(csv_files(), mutated_real()),
    give_dept=st.booleans(),
    period=st.sampled_from([None, None, "2025-06"]),
)
def test_ingest_never_crashes_and_never_stores_partially(store, upload, give_dept, period):
    name, data, code = upload
    before = store.dump_tables(TABLES)
    try:
        res = ingest_bytes(
            data, name, store, department=code if give_dept else None, period=period, geocode=False
        )
    except FileRejected as exc:
        event("rejected")
        assert exc.file == name
        assert store.dump_tables(TABLES) == before
        return
    event(res.status)
    after = store.dump_tables(TABLES)
    if res.status == "unchanged":
        assert after == before
        return
    assert res.status == "stored" and res.submission_id is not None
    subs = store.submissions()
    sub = subs[subs["submission_id"] == res.submission_id].iloc[0]
    assert int(sub["rows_accepted"]) == res.rows_accepted
    added = len(after["records"]) - len(before["records"])
    assert added == res.rows_accepted  # the whole submission, never part of it
    assert len(after["quarantine"]) - len(before["quarantine"]) == res.rows_quarantined


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_reader_on_arbitrary_bytes_only_rejects(data):
    try:
        t = read_table(data, "junk.csv", vocabulary(None))
    except FileRejected as exc:
        assert exc.file == "junk.csv" and "junk.csv" in str(exc)
        return
    assert len(t.frame) > 0 and len(t.headers) >= 2


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048))
def test_reader_on_corrupted_xlsx_only_rejects(tail):
    base = (FEEDS / "R1K12" / "R1K12_2025-04.xlsx").read_bytes()
    data = base[: len(base) // 2] + tail  # a zip cut short with junk after it
    with pytest.raises(FileRejected):
        read_table(data, "broken.xlsx", vocabulary(None))
