"""Read an upload into a frame of strings: CSV (any of , ; tab |, UTF-8 with or without BOM,
else cp1252) or XLSX (first sheet), with title rows above the header and blank rows dropped.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub._errors import FileRejected
from istvhub.ingest import csvread, twopass
from istvhub.ingest.csvread import (  # noqa: F401  (re-exported: the readers' public names)
    DELIMITERS,
    HEADER_SCAN_ROWS,
    check_text_limits,
    decode,
)
from istvhub.ingest.headers import HeaderKey, count_known


@dataclass(frozen=True)
class ReadLimits:
    """Hostile-input limits, checked cheaply before a parser sees the file (docs/SECURITY.md).

    Each is a setting: environment variable ``ISTVHUB_<NAME>`` (e.g. ``ISTVHUB_MAX_COLUMNS``).
    """

    max_file_bytes: int = 200 * 1024 * 1024  # CLI; the API streams against its own limit
    max_columns: int = 500  # an ED extract has 10-60
    max_line_bytes: int = 64 * 1024  # one CSV line (a record), before parsing
    max_cell_chars: int = 32_767  # Excel's own cell limit; free text is < 1,000
    max_xlsx_uncompressed: int = 256 * 1024 * 1024  # sum of the zip members' sizes
    max_xlsx_ratio: int = 200  # uncompressed / compressed size of any member over 1 MiB
    max_xlsx_members: int = 2_000

    @classmethod
    def from_env(cls) -> ReadLimits:
        kw = {}
        for f in cls.__dataclass_fields__:
            v = os.environ.get(f"ISTVHUB_{f.upper()}")
            if v and v.strip().isdigit():
                kw[f] = int(v)
        return cls(**kw)


@dataclass
class RawTable:
    frame: pd.DataFrame  # all cells as strings ("" when blank); columns = header cells
    headers: list[str]
    header_line: int  # 1-based line/row of the header in the file
    fmt: str  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None
    #: 1-based data rows that could not be split into the header's columns (quarantined)
    bad_rows: list[int] = field(default_factory=list)
    #: text of the title rows above the header (e.g. "Assault attendances - <site name>")
    preamble: list[str] = field(default_factory=list)
    #: CSV: the physical line where data row N (1-based) starts is ``lines[N - 1]`` (quoted
    #: cells may hold line breaks); None when rows are lines below the header (XLSX)
    lines: np.ndarray | None = None
    #: a large CSV read in two passes (issue 14 point 7): ``frame`` first holds the first rows
    #: (every column: enough to recognise the layout), then :meth:`load_columns` makes it the
    #: whole file in the few columns the file-level checks read, and ``chunks()`` parses the
    #: data rows again, every column, a chunk at a time, for the slices. None: ``frame`` is all
    chunks: Callable[[], Iterator[pd.DataFrame]] | None = field(default=None, repr=False)

    def load_columns(
        self,
        columns: list[str],
        file: str,
        limits: ReadLimits | None = None,
        key: str | None = None,
    ) -> None:
        """Pass 1 of a two-pass read (:func:`istvhub.ingest.twopass.load_columns`)."""
        twopass.load_columns(self, columns, file, limits, key)

    def line_of(self, row: int) -> int:
        """The line (CSV) or sheet row (XLSX) of 1-based data row ``row`` in the file."""
        return physical_line(self.lines, self.header_line, row)


def physical_line(lines: np.ndarray | None, header_line: int, row: int) -> int:
    """See :meth:`RawTable.line_of` (for callers that keep the line numbers, not the table)."""
    if lines is not None and 0 < row <= len(lines):
        return int(lines[row - 1])
    return header_line + row


def check_cells(
    df: pd.DataFrame, file: str, limits: ReadLimits, header_line: int, offset: int = 0
) -> None:
    """Reject a cell longer than the limit (names the row and column, never the text);
    ``offset``: rows of the file before ``df`` (a chunk)."""
    if len(df.columns) > limits.max_columns:
        raise FileRejected(
            f"more than {limits.max_columns} columns (ISTVHUB_MAX_COLUMNS)", file=file
        )
    for c in df.columns:
        n = df[c].str.len()
        if len(n) and n.max() > limits.max_cell_chars:
            pos = int(n.to_numpy().argmax())
            raise FileRejected(
                f"a cell is longer than the {limits.max_cell_chars} character "
                "limit (ISTVHUB_MAX_CELL_CHARS)",
                file=file,
                field=str(c),
                row=offset + pos + 1,
            )


def _header_row(rows: list[list[str]], vocab: list[HeaderKey]) -> tuple[int, int]:
    """(index, score) of the row that looks most like a header among the first rows."""
    best = (-1, 0)
    for i, r in enumerate(rows[:HEADER_SCAN_ROWS]):
        nonblank = [c for c in r if c and str(c).strip()]
        if len(nonblank) < 2:
            continue
        sc = count_known(nonblank, vocab)
        if sc > best[1]:
            best = (i, sc)
    return best


def combine_group_row(rows: list[list[str]], idx: int) -> list[str]:
    """A header row under group labels (merged cells: "Arrival" over "Date", "Time") becomes
    "Arrival Date", "Arrival Time". Only when the header repeats a name and the row above holds
    at least two labels, so a title row above an ordinary header changes nothing."""
    header = [str(c or "").strip() for c in rows[idx]]
    names = [h.lower() for h in header if h]
    if idx == 0 or len(set(names)) == len(names):
        return header
    above = [str(c or "").strip() for c in rows[idx - 1]]
    if sum(1 for c in above if c) < 2:
        return header
    out, group = [], ""
    for j, h in enumerate(header):
        g = above[j] if j < len(above) else ""
        group = g or group
        out.append(f"{group} {h}".strip() if h and group else h)
    return out


def _dedupe(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = (h or "").replace("\ufeff", "").strip() or f"column_{i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}.{seen[h]}"
        else:
            seen[h] = 0
        out.append(h)
    return out


def read_csv_bytes(
    data: csvread.Source, file: str, vocab: list[HeaderKey], two_pass: bool = False
) -> RawTable:
    """A CSV upload (UTF-8 bytes, see :func:`csvread.to_utf8`, or a file holding them) as a
    frame of strings.

    ``two_pass`` (a large upload): only the first rows are parsed here, and the table can parse
    the rest a chunk at a time (:attr:`RawTable.chunks`); a file whose rows fit in one chunk, or
    whose first rows are ragged, is read whole as without it."""
    lines = csvread.head_lines(data)
    idx, delim = csvread.sniff(lines, lambda rows: _header_row(rows, vocab), file)
    more = False
    if two_pass:
        df, more = twopass.first_rows(data, idx, delim, file)
    else:
        df = csvread.read_frame(data, idx, delim, file)
    if df is None:
        whole = data.read_bytes() if isinstance(data, Path) else data
        raw, good, index, bad, pre, starts = csvread.lenient_rows(
            whole.decode("utf-8-sig"), idx, delim, file
        )
        del whole
        headers = _dedupe(raw)
        df = pd.DataFrame(good, columns=headers, index=index, dtype="string").fillna("")
        where = csvread.record_lines(data, idx, delim)
        header_line = where[0] if where else idx + 1
        return RawTable(
            df,
            headers,
            header_line,
            "csv",
            delimiter=delim,
            bad_rows=bad,
            preamble=pre,
            lines=starts,
        )
    head_rows = csvread.head_rows(lines, delim)[: idx + 1]
    if len(head_rows) == idx + 1 and len(head_rows[idx]) == len(df.columns):
        headers = _dedupe(combine_group_row(head_rows, idx))  # group labels above the header
    else:
        headers = _dedupe([str(c) for c in df.columns])
    df.columns = headers
    pre = csvread.preamble(lines, idx, delim)
    where = csvread.record_lines(data, idx, delim)
    header_line, starts = where if where else (idx + 1, None)
    if starts is not None and len(df) and int(df.index.max()) >= len(starts):
        starts = None  # counted differently from the parser: keep header + N
    t = RawTable(df, headers, header_line, "csv", delimiter=delim, preamble=pre, lines=starts)
    if more:
        t.chunks = twopass.chunk_source(data, idx, delim, file, headers)
    return t


def read_csv_text(text: str, file: str, vocab: list[HeaderKey]) -> RawTable:
    """A CSV given as text (tests, small tools); uploads go through :func:`read_csv_bytes`."""
    return read_csv_bytes(text.encode("utf-8"), file, vocab)


def read_table(
    data: bytes | Path,
    file: str,
    vocab: list[HeaderKey],
    encoding: str | None = None,
    limits: ReadLimits | None = None,
    allow_empty: bool = False,
    two_pass: bool = False,
) -> RawTable:
    """Parse an upload; raises :class:`FileRejected` when it cannot be read, when it breaks a
    hostile-input limit (:class:`ReadLimits`) or when it has no data rows (unless
    ``allow_empty``: a header-only file is a nil return, issue 14 point 6). ``two_pass``: a
    CSV of :data:`twopass.TWO_PASS_BYTES` or more is read in two passes
    (:attr:`RawTable.chunks`). ``data`` a path: a large plain UTF-8 CSV is parsed from the
    file and never held in memory (:func:`csvread.plain_utf8_file`); any other file is read."""
    limits = limits or ReadLimits.from_env()
    csvread.use_returning_arrow_pool()
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    if size > limits.max_file_bytes:
        raise FileRejected(
            f"file larger than the {limits.max_file_bytes} byte limit (ISTVHUB_MAX_FILE_BYTES)",
            file=file,
        )
    if isinstance(data, Path):
        enc = None
        if two_pass and size >= twopass.TWO_PASS_BYTES:
            with open(data, "rb") as f:
                magic = f.read(8)
            if magic[:4] != b"PK\x03\x04" and magic != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
                enc = csvread.plain_utf8_file(data, encoding)
        if enc is None:
            return read_table(
                data.read_bytes(), file, vocab, encoding, limits, allow_empty, two_pass
            )
        csvread.check_text_limits(data, file, limits)
        t = read_csv_bytes(data, file, vocab, two_pass=True)
        t.encoding = enc
        return _checked(t, file, limits, allow_empty)
    if not data.strip():
        raise FileRejected("file is empty", file=file)
    if data[:4] == b"PK\x03\x04":
        if zipfile.is_zipfile(io.BytesIO(data)):
            from istvhub.ingest.xlsxread import read_xlsx  # xlsxread imports this module

            t = read_xlsx(data, file, vocab, limits)
        else:
            raise FileRejected("file looks like a damaged XLSX", file=file)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRejected("old binary .xls is not supported: save as .xlsx or CSV", file=file)
    else:
        raw, enc = csvread.to_utf8(data, file, encoding)
        if b"\x00" in raw:
            raise FileRejected("file is binary, not CSV text", file=file)
        raw = csvread.normalise_newlines(raw)
        csvread.check_text_limits(raw, file, limits)
        t = read_csv_bytes(
            raw, file, vocab, two_pass=two_pass and len(raw) >= twopass.TWO_PASS_BYTES
        )
        t.encoding = enc
    return _checked(t, file, limits, allow_empty)


def _checked(t: RawTable, file: str, limits: ReadLimits, allow_empty: bool) -> RawTable:
    """The checks every read table passes (cell lengths, data rows below the header)."""
    check_cells(t.frame, file, limits, t.header_line)
    if t.frame.empty and not t.bad_rows and not allow_empty:
        raise FileRejected("no data rows below the header", file=file)
    return t
