"""XLSX uploads (first sheet, or a sheet far more like the data): the zip container checked
before openpyxl inflates anything, then the chosen sheet streamed in read-only mode and turned into
Arrow strings a chunk of rows at a time. Split from :mod:`istvhub.ingest.readers`, whose
:func:`~istvhub.ingest.readers.read_table` calls :func:`read_xlsx`.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time

import pandas as pd

from istvhub._errors import FileRejected
from istvhub.ingest import csvread
from istvhub.ingest.csvread import HEADER_SCAN_ROWS
from istvhub.ingest.headers import HeaderKey
from istvhub.ingest.readers import RawTable, ReadLimits, _dedupe, _header_row, combine_group_row


def check_xlsx_container(data: bytes, file: str, limits: ReadLimits) -> None:
    """Inspect the zip directory before openpyxl inflates anything: zip bombs, macros and
    external links are refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            ctypes = (
                zf.read("[Content_Types].xml")[:200_000]
                if (
                    "[Content_Types].xml" in zf.namelist()
                    and zf.getinfo("[Content_Types].xml").file_size < 1_000_000
                )
                else b""
            )
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise FileRejected("file looks like a damaged XLSX", file=file) from exc
    if len(infos) > limits.max_xlsx_members:
        raise FileRejected(f"XLSX holds more than {limits.max_xlsx_members} parts", file=file)
    total = sum(i.file_size for i in infos)
    if total > limits.max_xlsx_uncompressed:
        raise FileRejected(
            "XLSX would expand beyond the "
            f"{limits.max_xlsx_uncompressed} byte limit (zip bomb?) "
            "(ISTVHUB_MAX_XLSX_UNCOMPRESSED)",
            file=file,
        )
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > limits.max_xlsx_ratio * max(
            i.compress_size, 1
        ):
            raise FileRejected(
                f"XLSX part compressed more than {limits.max_xlsx_ratio}:1 "
                "(zip bomb?) (ISTVHUB_MAX_XLSX_RATIO)",
                file=file,
            )
    names = [i.filename.lower() for i in infos]
    if any(n.endswith("vbaproject.bin") for n in names) or b"macroEnabled" in ctypes:
        raise FileRejected("workbook contains macros: save as a plain .xlsx or CSV", file=file)
    if any(n.startswith("xl/externallinks/") for n in names) or b"externalLink" in ctypes:
        raise FileRejected(
            "workbook links to other workbooks (external links): paste values "
            "and save as a plain .xlsx or CSV",
            file=file,
        )


def _cell_str(v: object) -> str:
    """An Excel cell as text the value parsers understand."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        if v.hour == 0 and v.minute == 0 and v.second == 0 and v.microsecond == 0:
            return v.strftime("%Y-%m-%d")
        if v.year < 1901:  # a time-only cell stored against Excel's epoch
            return v.strftime("%H:%M:%S")
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        if 0 < v < 1:  # an Excel time stored as a fraction of a day
            secs = round(v * 86400)
            return f"{secs // 3600 % 24:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
        return repr(v)
    return str(v).strip()


def read_xlsx(
    data: bytes, file: str, vocab: list[HeaderKey], limits: ReadLimits | None = None
) -> RawTable:
    import openpyxl

    limits = limits or ReadLimits.from_env()
    check_xlsx_container(data, file, limits)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise FileRejected(f"XLSX cannot be opened ({type(exc).__name__})", file=file) from exc
    try:
        # the first sheet normally; another sheet only when it looks far more like the data.
        # Only the first rows of each sheet are read to choose (a sheet of a million rows is
        # not materialised to be rejected); then the chosen sheet is streamed column-wise.
        best: tuple[int, int, int, list[list[str]]] | None = None  # (idx, score, sheet, head)
        for si, ws in enumerate(wb.worksheets[:5]):
            head = [
                [_cell_str(v) for v in r]
                for r in ws.iter_rows(
                    values_only=True, max_col=limits.max_columns + 1, max_row=HEADER_SCAN_ROWS
                )
            ]
            _check_width(head, file, limits)
            i, sc = _header_row(head, vocab)
            if best is None or sc > best[1] + 1:
                best = (i, sc, si, head)
        idx, sc, si, head = best if best else (-1, 0, 0, [])
        if idx < 0 or sc < 2:
            raise FileRejected(
                "no header row with known column names found in the first "
                f"{HEADER_SCAN_ROWS} rows of the first sheet",
                file=file,
            )
        header_cells = combine_group_row(head, idx)
        while header_cells and not header_cells[-1]:
            header_cells = header_cells[:-1]
        headers = _dedupe(header_cells)
        width = len(headers)
        columns: list[list[str]] = [[] for _ in range(width)]
        parts: list[pd.DataFrame] = []
        rows_iter = wb.worksheets[si].iter_rows(
            values_only=True, min_row=idx + 2, max_col=limits.max_columns + 1
        )
        for r in rows_iter:
            if len(r) > limits.max_columns and r[-1] not in (None, ""):
                _check_width([["x"] * len(r)], file, limits)
            for j in range(width):
                columns[j].append(_cell_str(r[j]) if j < len(r) else "")
            if len(columns[0]) >= XLSX_CHUNK_ROWS:  # Python strings become Arrow strings
                parts.append(_string_frame(headers, columns))
                columns = [[] for _ in range(width)]
        if columns[0] or not parts:
            parts.append(_string_frame(headers, columns))
        del columns
    finally:
        wb.close()
    df = csvread.concat_frames(parts)
    assert df is not None
    del parts
    df.index = pd.RangeIndex(len(df))
    df = csvread.drop_blank_rows(df)
    pre = [" ".join(c for c in r if c.strip()) for r in head[:idx]]
    return RawTable(df, headers, idx + 1, "xlsx", preamble=[p for p in pre if p])


#: XLSX rows held as Python strings at a time (~60 bytes a cell) before they become Arrow
#: strings, so a large sheet never exists as Python objects whole (issue 14 point 7)
XLSX_CHUNK_ROWS = 10_000


def _string_frame(headers: list[str], columns: list[list[str]]) -> pd.DataFrame:
    """Columns of cell texts as a frame of strings."""
    return pd.DataFrame(
        {h: pd.array(col, dtype="string") for h, col in zip(headers, columns, strict=True)},
        columns=headers,
    ).fillna("")


def _check_width(rows: list[list[str]], file: str, limits: ReadLimits) -> None:
    if any(len(r) > limits.max_columns and r[-1] for r in rows):
        raise FileRejected(
            f"more than {limits.max_columns} columns (ISTVHUB_MAX_COLUMNS)", file=file
        )
