"""The byte-level CSV reader (issue 14 point 7): same answers as decoding the whole text."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub.ingest import csvread
from istvhub.ingest.layouts import vocabulary
from istvhub.ingest.readers import read_table

CP1252_TEXT = st.text(
    alphabet=st.characters(codec="cp1252", exclude_characters="\x00"), min_size=1, max_size=200
)


@given(st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"])))
@settings(max_examples=200, deadline=None)
def test_utf8_kept_as_is(text: str) -> None:
    raw = text.encode("utf-8")
    out, enc = csvread.to_utf8(raw, "f.csv")
    assert out == raw and enc == "utf-8"


@given(CP1252_TEXT)
@settings(max_examples=200, deadline=None)
def test_windows_1252_transcoded(text: str) -> None:
    raw = text.encode("cp1252")
    out, enc = csvread.to_utf8(raw, "f.csv")
    try:
        raw.decode("utf-8")
        expect = "utf-8"
    except UnicodeDecodeError:
        expect = {"cp1252", "mixed"}
    assert (enc == expect) if isinstance(expect, str) else (enc in expect)
    if enc == "cp1252":
        assert out.decode("utf-8") == raw.decode("cp1252", errors="replace")


def test_multibyte_character_across_the_validation_step() -> None:
    # "é" split over the 1 MiB boundary of the incremental check is still one valid character
    raw = b"a" * (csvread._STEP - 1) + "é".encode() + b"\n"
    assert csvread.to_utf8(raw, "f.csv") == (raw, "utf-8")
    bad = b"a" * (csvread._STEP - 1) + b"\xe9\n"  # cp1252 "é" at the same place
    assert csvread.to_utf8(bad, "f.csv")[1] == "cp1252"


def _extract(rows: int, newline: str = "\n") -> bytes:
    head = "Site_Code_of_Treatment,Arrival_Date,Arrival_Time,Location_Description,Weapon_Code"
    body = [
        f"RJ122,2025-03-{1 + i % 28:02d},1{i % 10}:00,o/s cafe brixton rd {i},1"
        for i in range(rows)
    ]
    return newline.join(["Assault attendances - St Thomas'", head, *body, ""]).encode()


def test_old_mac_line_endings_read_like_unix_ones() -> None:
    a = read_table(_extract(50), "a.csv", vocabulary(None))
    b = read_table(_extract(50, "\r"), "b.csv", vocabulary(None))
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.header_line == b.header_line == 2
    assert a.preamble == b.preamble == ["Assault attendances - St Thomas'"]


def test_text_and_bytes_paths_agree_on_the_sample_feeds() -> None:
    from istvhub.ingest.readers import read_csv_bytes, read_csv_text

    feeds = sorted((Path(__file__).parents[1] / "sample_feeds").glob("R*/*.csv"))
    assert len(feeds) > 20
    for p in feeds[::8]:
        data = p.read_bytes()
        raw, _enc = csvread.to_utf8(data, p.name)
        t1 = read_csv_bytes(raw, p.name, vocabulary(None))
        t2 = read_csv_text(raw.decode("utf-8-sig"), p.name, vocabulary(None))
        pd.testing.assert_frame_equal(t1.frame, t2.frame)


def test_xlsx_sheet_chosen_from_its_first_rows_and_read_in_full(tmp_path: Path) -> None:
    data = pd.read_csv(io.BytesIO(_extract(3000)), skiprows=1, dtype=str)
    p = tmp_path / "RJ122_2025-03.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"Notes": ["generated for a test"] * 5}).to_excel(
            xw, sheet_name="Cover", index=False
        )
        data.to_excel(xw, sheet_name="Data", index=False)
    t = read_table(p.read_bytes(), p.name, vocabulary(None))
    assert len(t.frame) == 3000 and t.fmt == "xlsx"
    assert t.frame["Location_Description"].iloc[-1] == "o/s cafe brixton rd 2999"
    assert t.frame["Arrival_Time"].iloc[3] == "13:00"


def test_xlsx_read_in_chunks_gives_the_same_frame(tmp_path: Path, monkeypatch) -> None:
    """A sheet is turned into Arrow strings a chunk of rows at a time (issue 14 point 7): the
    frame, with its blank rows dropped and row labels kept, is the one read in one go."""
    from istvhub.ingest import xlsxread

    data = pd.read_csv(io.BytesIO(_extract(700)), skiprows=1, dtype=str)
    data.iloc[[5, 333, 699]] = None  # blank rows: dropped, the labels of the others kept
    p = tmp_path / "RJ122_2025-03.xlsx"
    data.to_excel(p, index=False)
    whole = read_table(p.read_bytes(), p.name, vocabulary(None))
    monkeypatch.setattr(xlsxread, "XLSX_CHUNK_ROWS", 64)
    chunked = read_table(p.read_bytes(), p.name, vocabulary(None))
    assert len(whole.frame) == 697 and whole.frame.index[5] == 6
    pd.testing.assert_frame_equal(chunked.frame, whole.frame)
    assert chunked.headers == whole.headers and chunked.header_line == whole.header_line
