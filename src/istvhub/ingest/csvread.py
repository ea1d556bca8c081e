"""CSV uploads read from their bytes: decoding, hostile-input limits and the frame of strings.

Why bytes and not a decoded ``str``: an upload of 50 MB decoded to text, split into lines and
handed to pandas through ``StringIO`` peaked at about 8 times its size (issue 14 point 7).
Here a UTF-8 file is validated in 1 MiB steps without keeping the text, lines are measured
while iterating, and pandas' C parser reads the bytes itself: peak memory is about 3 times the
file (figures in benchmarks/RESULTS.md, ``benchmarks/upload_memory.py``). Files in other
encodings are transcoded to UTF-8 once.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from istvhub._errors import FileRejected
from istvhub.ingest.csvdecode import (  # noqa: F401  (re-exported: callers use csvread's names)
    _STEP,
    decode,
    normalise_newlines,
    plain_utf8_file,
    to_utf8,
)

if TYPE_CHECKING:
    from istvhub.ingest.readers import ReadLimits

DELIMITERS = (",", ";", "\t", "|")
HEADER_SCAN_ROWS = 30
#: CSV rows parsed at a time (see :func:`read_frame`)
READ_CHUNK_ROWS = 50_000

#: a CSV's UTF-8 bytes, or the file on disk that holds them (a large upload: never read whole)
Source = bytes | Path


@contextmanager
def open_source(src: Source) -> Iterator[IO[bytes]]:
    """The source as a binary file object: the bytes in memory, or the file opened for reading."""
    if isinstance(src, Path):
        with open(src, "rb") as f:
            yield f
    else:
        yield io.BytesIO(src)


def head_lines(data: Source, n: int = HEADER_SCAN_ROWS + 5) -> list[str]:
    """The first ``n`` lines as text, for header and delimiter detection."""
    with open_source(data) as buf:
        chunk = b"".join(buf.readline() for _ in range(n))
    return chunk.decode("utf-8-sig", errors="replace").splitlines()[:n]


def check_text_limits(data: Source, file: str, limits: ReadLimits) -> None:
    """Reject absurd lines or column counts before pandas builds a frame from them."""
    with open_source(data) as f:
        for i, ln in enumerate(f, 1):
            if len(ln.rstrip(b"\r\n")) > limits.max_line_bytes:
                raise FileRejected(
                    f"a line is longer than the {limits.max_line_bytes} character limit "
                    "(ISTVHUB_MAX_LINE_BYTES)",
                    file=file,
                    row=i,
                )
    for ln in head_lines(data):
        if max(ln.count(d) for d in DELIMITERS) + 1 > limits.max_columns:
            raise FileRejected(
                f"more than {limits.max_columns} columns (ISTVHUB_MAX_COLUMNS)", file=file
            )


HeaderRow = Callable[[list[list[str]]], tuple[int, int]]
Finish = Callable[[pd.DataFrame, list[str]], pd.DataFrame]


def sniff(lines: list[str], header_row: HeaderRow, file: str) -> tuple[int, str]:
    """(0-based header line, delimiter): the delimiter whose split gives the best header."""
    best: tuple[int, int, int, str] | None = None  # (score, ncols, -idx, delim)
    for d in DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=d))
        except csv.Error:
            continue
        idx, sc = header_row(rows)
        if idx < 0:
            continue
        key = (sc, len(rows[idx]), -idx, d)
        if best is None or key[:3] > best[:3]:
            best = key
    if best is None or best[0] < 2:
        raise FileRejected(
            f"no header row with known column names found in the first {HEADER_SCAN_ROWS} rows",
            file=file,
        )
    return -best[2], best[3]


def use_returning_arrow_pool() -> None:
    """Make Arrow allocate with the system allocator, once per process, unless
    ``ARROW_DEFAULT_MEMORY_POOL`` chooses a pool.

    Why: uploads are read into Arrow strings, and Arrow's default pool (mimalloc) keeps the
    memory of freed temporaries, so a server that has read one large upload stays about 75 MB
    larger, and the next upload's peak starts from there (issue 14 point 7; measured with
    ``benchmarks/upload_memory.py``). The system allocator hands large blocks back."""
    global _POOL_SET
    if _POOL_SET or os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    _POOL_SET = True
    _fixed_mmap_threshold()
    import pyarrow as pa

    if pa.default_memory_pool().backend_name == "mimalloc":
        pa.set_memory_pool(pa.system_memory_pool())


_POOL_SET = False


def _fixed_mmap_threshold(size: int = 1024 * 1024) -> None:
    """Blocks of ``size`` or more come straight from the system and go back on free. glibc
    raises this threshold (up to 32 MB) each time such a block is freed, after which a
    parse's column buffers stay in its heap: a fixed threshold keeps the peak of a large
    upload from ratcheting up (issue 14 point 7). A no-op off glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, size)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def release_freed_memory() -> None:
    """Hand memory freed by parsing back to the system (glibc keeps small freed blocks in its
    arenas, so the process stays at its peak; issue 14 point 7). A no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Ragged(Exception):
    """A data row does not split into the header's columns (the reader falls back to reading
    row by row and quarantining such rows)."""


def iter_frames(
    data: Source, idx: int, delim: str, file: str, chunk_rows: int | None = None
) -> Iterator[pd.DataFrame]:
    """The data rows below header line ``idx`` as frames of strings, ``chunk_rows`` at a time,
    blank rows dropped. Index labels run on across chunks: label ``i`` is the ``i``-th record
    below the header, blank lines not counted (so a second pass over the same bytes gives every
    row the same label). Raises :class:`Ragged` for a ragged row."""

    def step(it: Any) -> Any:
        with warnings.catch_warnings():
            # extra fields on the first row only warn: treat them like any ragged row
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                return it() if callable(it) else next(it)
            except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
                raise Ragged from exc
            except (pd.errors.EmptyDataError, ValueError) as exc:
                raise FileRejected("CSV cannot be parsed", file=file) from exc

    with open_source(data) as fh:
        yield from _frames(fh, idx, delim, chunk_rows, step)


def _frames(
    fh: IO[bytes], idx: int, delim: str, chunk_rows: int | None, step: Callable[[Any], Any]
) -> Iterator[pd.DataFrame]:
    """:func:`iter_frames` over an open file."""
    reader = step(
        lambda: pd.read_csv(
            fh,
            encoding="utf-8-sig",
            sep=delim,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skiprows=idx,
            header=0,
            skip_blank_lines=True,
            engine="c",
            quotechar='"',
            index_col=False,
            chunksize=chunk_rows or READ_CHUNK_ROWS,
        )
    )
    with reader:
        while True:
            try:
                c = step(reader)
            except StopIteration:
                return
            yield drop_blank_rows(c.astype("string").fillna(""))


def read_frame(data: Source, idx: int, delim: str, file: str) -> pd.DataFrame | None:
    """The non-blank data rows below header line ``idx`` as strings; None when a row is ragged
    (the caller then reads row by row and quarantines those rows).

    Read in chunks of :data:`READ_CHUNK_ROWS` (:func:`iter_frames`): each chunk's Python strings
    become Arrow strings and its blank rows are dropped before the next is parsed, so the whole
    file never exists as Python objects or as two copies (issue 14 point 7)."""
    try:
        parts = list(iter_frames(data, idx, delim, file))
    except Ragged:
        return None
    return concat_frames(parts)


def concat_frames(parts: list[pd.DataFrame]) -> pd.DataFrame | None:
    """Chunks back into one frame (None for none), keeping the first chunk's column names."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    cols = parts[0].columns
    df = pd.concat(parts)
    df.columns = cols
    return df


def drop_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose every cell is blank are not records (``,,,`` lines, Excel's empty rows)."""
    if df.empty:
        return df
    blank = (
        df.apply(lambda c: c.str.strip().eq(""))
        if len(df.columns) < 64
        else df.map(lambda v: not str(v).strip())
    ).all(axis=1)
    return df[~blank] if bool(blank.any()) else df


def record_lines(data: Source, idx: int, delim: str) -> tuple[int, np.ndarray] | None:
    """(the header's physical line, the physical line where each record below it starts).

    Why: a quoted cell may hold line breaks and blank lines are skipped, so "data row N" is
    not line header + N (issue 14: the report names the line to look at). Records are counted
    as the frame counts them (blank and whitespace-only lines skipped); None when the file
    cannot be read as CSV here, and the caller falls back to header + N."""
    with open_source(data) as fh:
        return _record_lines(fh, idx, delim)


def _record_lines(fh: IO[bytes], idx: int, delim: str) -> tuple[int, np.ndarray] | None:
    """:func:`record_lines` over an open file."""
    reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline=""), delimiter=delim)
    starts = array("q")
    header = -1
    last = k = 0
    try:
        for r in reader:
            blank = not r or (len(r) == 1 and not r[0].strip())
            if header < 0:
                if k == idx:
                    header = last + 1
                k += 1
            elif not blank:
                starts.append(last + 1)
            last = reader.line_num
    except (csv.Error, UnicodeDecodeError):
        return None
    if header < 0:
        return None
    return header, np.frombuffer(starts, dtype=np.int64).copy() if starts else np.zeros(0, "i8")


def head_rows(lines: list[str], delim: str) -> list[list[str]]:
    """The first lines split into rows; a quoted title cell may span lines, so row ``idx``
    (the header, from :func:`sniff`) is not ``lines[idx]``."""
    try:
        return list(csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=delim))
    except csv.Error:
        return []


def preamble(lines: list[str], idx: int, delim: str) -> list[str]:
    """Title rows above the header, joined per row (department names live there)."""
    pre = [" ".join(c for c in r if c.strip()) for r in head_rows(lines, delim)[:idx]]
    return [p for p in pre if p]


def lenient_rows(
    text: str, idx: int, delim: str, file: str
) -> tuple[list[str], list[list[str]], list[int], list[int], list[str], np.ndarray]:
    """Row by row: rows with more fields than the header (an unquoted separator in free text)
    are set aside for quarantine instead of failing the whole file.

    Rows are counted as :func:`read_frame` counts them (blank lines not counted; a row of
    empty cells counted, then dropped). Returns (raw header cells, good rows padded to the
    header, their 0-based data index, 1-based bad data rows, raw title rows, the physical
    line where each counted row starts)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    above: list[list[str]] = []
    header: list[str] | None = None
    good: list[list[str]] = []
    index: list[int] = []
    bad: list[int] = []
    starts = array("q")
    n = last = 0
    try:
        for r in reader:
            start, last = last + 1, reader.line_num
            if header is None:
                if len(above) == idx:
                    header = r
                else:
                    above.append(r)
                continue
            if not r or (len(r) == 1 and not r[0].strip()):
                continue
            n += 1
            starts.append(start)
            width = len(header)
            if len(r) > width and any(c.strip() for c in r[width:]):
                bad.append(n)
            elif any(c.strip() for c in r):
                good.append((r + [""] * width)[:width])
                index.append(n - 1)
    except csv.Error as exc:
        raise FileRejected("CSV cannot be parsed", file=file) from exc
    if header is None:
        raise FileRejected("CSV cannot be parsed", file=file)
    pre = [" ".join(c for c in r if c.strip()) for r in above]
    lines = np.frombuffer(starts, dtype=np.int64).copy() if starts else np.zeros(0, "i8")
    return header, good, index, bad, [p for p in pre if p], lines
