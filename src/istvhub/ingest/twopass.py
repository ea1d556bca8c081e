"""Two-pass reading of a large CSV upload (issue 14 point 7: under 300 MB for a 50 MB file).

Pass 0 parses only the first rows, every column: enough to recognise the layout. Pass 1
(:func:`load_columns`) parses the whole file a chunk at a time, checks every cell, and keeps
only the columns the file-level checks read (``fileplan.plan_columns``) plus, when some row has
no key, each row's hash over all its cells. Pass 2 (``RawTable.chunks``) parses the data rows
again, a chunk at a time, for the slices. Index labels are the same in every pass, so row
numbers (and the lines the report names) do not depend on the chunking.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from istvhub.ingest import csvread

if TYPE_CHECKING:
    from istvhub.ingest.readers import RawTable, ReadLimits

#: pass 1: each row's hash over all its cells (never a column of the file)
ROW_HASH = "\x00row_hash"
#: rows parsed at a time: a chunk is Python strings until it becomes Arrow strings, about
#: 100 bytes a cell, so a smaller chunk lowers the peak
TWO_PASS_CHUNK_ROWS = 10_000
#: CSV uploads from this size are read in two passes (``ISTVHUB_TWO_PASS_BYTES``)
TWO_PASS_BYTES = int(os.environ.get("ISTVHUB_TWO_PASS_BYTES", "") or 8 * 1024 * 1024)


def first_rows(
    data: csvread.Source, idx: int, delim: str, file: str
) -> tuple[pd.DataFrame | None, bool]:
    """(the first :data:`csvread.READ_CHUNK_ROWS` or more data rows, whether rows follow);
    (None, False) when one of them is ragged."""
    it = csvread.iter_frames(data, idx, delim, file, TWO_PASS_CHUNK_ROWS)
    parts: list[pd.DataFrame] = []
    more = False
    try:
        for c in it:
            if sum(len(p) for p in parts) >= csvread.READ_CHUNK_ROWS:
                more = True
                break
            parts.append(c)
    except csvread.Ragged:
        return None, False
    finally:
        it.close()
    return csvread.concat_frames(parts), more


def chunk_source(
    data: csvread.Source, idx: int, delim: str, file: str, headers: list[str]
) -> Callable[[], Iterator[pd.DataFrame]]:
    """Pass 2: a function that parses the data rows again, every column, a chunk at a time."""

    def chunks() -> Iterator[pd.DataFrame]:
        for c in csvread.iter_frames(data, idx, delim, file, TWO_PASS_CHUNK_ROWS):
            c.columns = headers
            yield c

    return chunks


def load_columns(
    table: RawTable,
    columns: list[str],
    file: str,
    limits: ReadLimits | None = None,
    key: str | None = None,
) -> None:
    """Pass 1: every cell checked, ``table.frame`` replaced by the whole file in ``columns``
    (plus :data:`ROW_HASH` when some row has no ``key``). Raises :class:`csvread.Ragged`."""
    from istvhub.ingest.readers import ReadLimits, check_cells

    if table.chunks is None:
        return
    limits = limits or ReadLimits.from_env()
    keep = [c for c in dict.fromkeys(columns) if c in table.headers]
    parts: list[pd.DataFrame] = []
    hashes: list[np.ndarray] = []
    seen, keyless = 0, key is None or key not in table.headers
    for c in table.chunks():
        check_cells(c, file, limits, table.header_line, offset=seen)
        seen += len(c)
        if not keyless:
            k = c[key].str.strip()
            keyless = bool((k.isna() | (k == "")).any())
        hashes.append(pd.util.hash_pandas_object(c, index=False).to_numpy())
        parts.append(c[keep].copy())
    csvread.release_freed_memory()
    df = csvread.concat_frames(parts)
    del parts
    if df is not None and keyless:
        df[ROW_HASH] = np.concatenate(hashes)
    del hashes
    table.frame = df if df is not None else table.frame[keep]
    csvread.release_freed_memory()
    if table.lines is not None and len(table.frame):
        if int(table.frame.index.max()) >= len(table.lines):
            table.lines = None  # counted differently from the parser: keep header + N
