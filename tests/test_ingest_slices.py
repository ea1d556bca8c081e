"""Large uploads are adapted and stored in slices (issue 14 point 7), on both backends: the
stored records, quarantine and report are the same as adapting the file whole, duplicate keys
are found across slices, and a refusal in a late slice or at the end stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from istvhub._errors import ConfirmationRequired, FileRejected
from istvhub.ingest import adapters, core, csvread, readers, twopass
from istvhub.ingest.adapters import adapt
from istvhub.ingest.core import ingest_bytes
from istvhub.ingest.layouts import detect_layout, vocabulary
from istvhub.ingest.readers import read_table
from istvhub.ingest.report import item_report
from istvhub.pii import nhs_check_digit
from istvhub.store import open_store
from istvhub.store import schema as S

REPO = Path(__file__).resolve().parents[1]
RJ122_MARCH = (REPO / "sample_feeds" / "RJ122" / "RJ122_2025-03.csv").read_bytes()
NAME = "RJ122_2025-03.csv"


@pytest.fixture
def st(db_url, home):
    s = open_store(db_url)
    yield s
    s.dispose()


@pytest.fixture(params=["one pass", "two passes"])
def small_slices(request, monkeypatch):
    """Slices of 25 rows: the 169-row sample month takes the streamed path in 7 slices; read
    whole, or in two passes of 30-row chunks (the layout recognised on the first 30 rows)."""
    monkeypatch.setattr(adapters, "SLICE_ROWS", 25)
    monkeypatch.setattr(core, "SLICE_ROWS", 25)
    if request.param == "two passes":
        monkeypatch.setattr(twopass, "TWO_PASS_BYTES", 0)
        monkeypatch.setattr(twopass, "TWO_PASS_CHUNK_ROWS", 30)
        monkeypatch.setattr(csvread, "READ_CHUNK_ROWS", 30)
    return request.param


def _dump(st) -> dict:
    return st.dump_tables([t.name for t in S.metadata.sorted_tables if t.name != "audit_log"])


def _awkward() -> bytes:
    """The sample month with a row repeated 100 rows later (a duplicate key in another
    slice) and a row whose arrival date is not a date (quarantined)."""
    lines = RJ122_MARCH.decode("utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    bad = rows[40].split(",")
    bad[4] = "2025-13-45"
    rows[40] = ",".join(bad)
    rows.insert(120, rows[10])
    return ("\ufeff" + "\n".join([header, *rows]) + "\n").encode()


def _whole(data: bytes, home: Path):
    t = read_table(data, NAME, vocabulary(None))
    layout, _ = detect_layout(t.headers)
    return adapt(t, layout, file=NAME, home=home, size=10**6)


def test_streamed_upload_stores_what_the_whole_file_adapts_to(st, home, small_slices):
    data = _awkward()
    whole = _whole(data, home)
    res = ingest_bytes(data, NAME, st, geocode=False, home=home)
    assert res.status == "stored", res.message
    assert res.rows_total == 170 and res.rows_accepted == len(whole.records) == 168
    assert res.rows_quarantined == 2
    q = {(i.row, i.field, i.reason) for i in res.issues if i.quarantined}
    assert q == {(i.row, i.field, i.reason) for i in whole.issues if i.quarantined}
    assert (121, "Attendance_Identifier") in {(r, f) for r, f, _ in q}  # across slices
    assert [(i.row, i.field, i.reason) for i in res.issues] == [
        (i.row, i.field, i.reason) for i in whole.issues
    ]
    stored = st.current_records("RJ122").sort_values("source_row").reset_index(drop=True)
    want = whole.records.sort_values("source_row").reset_index(drop=True)
    assert stored["record_id"].tolist() == want["record_id"].tolist()
    for c in ("location_text", "weapon", "location_type", "age_band", "sex"):
        assert stored[c].fillna("").tolist() == want[c].fillna("").tolist(), c
    sub = st.submissions("RJ122", current_only=True).iloc[0]
    assert (int(sub["rows_accepted"]), int(sub["rows_quarantined"])) == (168, 2)
    assert int(sub["rows_total"]) == 170
    assert len(st.quarantine(int(sub["submission_id"]))) == 2
    t = read_table(data, NAME, vocabulary(None))
    assert res.items == item_report(whole, t.frame)  # counts and mappings summed over slices
    assert {it["item"]: it["rows"] for it in res.items}["weapon"] == 168


def test_nhs_number_key_in_a_late_slice_stores_nothing(st, home, small_slices):
    lines = RJ122_MARCH.decode("utf-8-sig").splitlines()
    out = [lines[0]]
    for i, ln in enumerate(lines[1:]):
        cells = ln.split(",")
        if i >= 150:  # the last slice only: the column is judged whole, not per slice
            base = f"943476{i:03d}"
            cells[3] = base + str(nhs_check_digit(base))
        out.append(",".join(cells))
    before = _dump(st)
    with pytest.raises(FileRejected) as exc:
        ingest_bytes("\n".join(out).encode(), NAME, st, geocode=False, home=home)
    assert exc.value.field == "Attendance_Identifier" and exc.value.row == 151
    assert _dump(st) == before


def test_refused_replacement_at_the_end_of_a_streamed_upload_stores_nothing(st, home, small_slices):
    first = ingest_bytes(RJ122_MARCH, NAME, st, geocode=False, home=home)
    assert first.status == "stored" and first.rows_accepted == 169
    lines = RJ122_MARCH.decode("utf-8-sig").splitlines()
    few = "\n".join(lines[:60]).encode()  # 59 of 169 rows, in 3 slices
    before = _dump(st)
    with pytest.raises(ConfirmationRequired) as exc:
        ingest_bytes(few, NAME, st, geocode=False, home=home)
    assert "59 records" in str(exc.value) and "169" in str(exc.value)
    assert _dump(st) == before
    ok = ingest_bytes(few, NAME, st, geocode=False, home=home, confirm_replace=True)
    assert ok.status == "stored" and ok.version == 2 and ok.rows_accepted == 59
    assert len(st.current_records("RJ122")) == 59


def test_two_pass_read_reads_whole_when_a_late_row_is_ragged(st, home, small_slices, monkeypatch):
    """A row with a field too many past the first chunks: the upload is read row by row as a
    small one is (the row quarantined), with the same report either way."""
    lines = RJ122_MARCH.decode("utf-8-sig").splitlines()
    lines[150] += ",extra"
    data = ("\n".join(lines) + "\n").encode()
    seen: list[bool] = []
    real = readers.read_table
    monkeypatch.setattr(
        core, "read_table", lambda *a, **k: seen.append(k.get("two_pass", False)) or real(*a, **k)
    )
    res = ingest_bytes(data, NAME, st, geocode=False, home=home)
    assert res.status == "stored" and res.rows_accepted == 168 and res.rows_quarantined == 1
    assert [(i.row, i.field) for i in res.issues if i.quarantined] == [(150, "row")]
    assert seen == ([True, False] if small_slices == "two passes" else [True])


def test_two_pass_keyless_duplicates_match_one_pass(home, monkeypatch):
    """Rows without a key are compared on every cell: pass 1 hashes whole rows, so a
    repeated keyless row is found though only a few columns are kept."""
    lines = RJ122_MARCH.decode("utf-8-sig").splitlines()
    rows = [ln.split(",") for ln in lines[1:]]
    for r in rows[100:]:
        r[3] = ""
    rows.insert(160, list(rows[120]))
    data = ("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n").encode()
    t1 = read_table(data, NAME, vocabulary(None))
    layout, _ = detect_layout(t1.headers)
    one = adapt(t1, layout, file=NAME, home=home)
    monkeypatch.setattr(twopass, "TWO_PASS_BYTES", 0)
    monkeypatch.setattr(twopass, "TWO_PASS_CHUNK_ROWS", 30)
    monkeypatch.setattr(csvread, "READ_CHUNK_ROWS", 30)
    t2 = read_table(data, NAME, vocabulary(None), two_pass=True)
    assert t2.chunks is not None and len(t2.frame) == 30
    from istvhub.ingest.fileplan import plan_columns
    from istvhub.ingest.recognise import recognise

    rec = recognise(t2.headers, t2.frame, layout)
    t2.load_columns(plan_columns(dict(rec.columns), layout), NAME, key=rec.columns["source_key"])
    assert twopass.ROW_HASH in t2.frame.columns and len(t2.frame) == 170
    two = adapt(t2, layout, file=NAME, home=home, recognition=rec)
    key = [(i.row, i.field, i.reason) for i in one.issues]
    assert key == [(i.row, i.field, i.reason) for i in two.issues]
    assert (161, "row") in {(i.row, i.field) for i in two.issues if i.quarantined} or any(
        i.row == 161 and "duplicate" in i.reason for i in two.issues
    )
    assert two.records["record_id"].tolist() == one.records["record_id"].tolist()
