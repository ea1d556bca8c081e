"""A PostgreSQL select read as typed columns through ``COPY ... TO STDOUT`` (issue 16).

A London year is ~300k rows; fetching them as Python tuples and building pandas columns one
list at a time cost 3x the query itself. ``COPY (select) TO STDOUT (FORMAT csv)`` hands the
rows over as one CSV stream that pyarrow parses straight into typed columns (in C, threaded).
The session is pinned to what the parse assumes (ISO dates, floats that round-trip exactly,
UTF-8) so the frame is the one the row-by-row read gives, value for value and dtype for dtype
(``tests/test_hotblocks_readscope.py`` compares both on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: what a CSV field of each kind of column is parsed as
ArrowTypes = Mapping[str, pa.DataType]

#: session settings the CSV parse relies on (another server default would change the text)
_SESSION = (
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL extra_float_digits = 3",
)


def copy_select(
    conn: Connection, query: sa.Select[tuple[object, ...]], types: ArrowTypes
) -> pd.DataFrame | None:
    """The rows of ``query`` as a frame with one column per selected column, parsed as
    ``types`` (name -> arrow type; a name left out is text); None when the connection is not
    psycopg on PostgreSQL in UTF-8 (the caller then reads row by row)."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return None
    dbapi = conn.connection.driver_connection
    if dbapi is None or dbapi.info.encoding.lower().replace("-", "") != "utf8":
        return None
    names = [c.name for c in query.selected_columns]
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    buf = bytearray()
    with dbapi.cursor() as cur:
        for stmt in _SESSION:
            cur.execute(stmt)
        # parameters are bound client-side by psycopg (COPY takes none server-side)
        with cur.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params) as cp:
            for chunk in cp:
                buf += chunk
    if not buf:
        return None  # no rows: the row-by-row read gives the empty frame's dtypes
    table = pacsv.read_csv(
        pa.py_buffer(buf),
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(
            column_types={n: types.get(n, pa.string()) for n in names},
            null_values=[""],  # PostgreSQL writes NULL as an empty unquoted field ...
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # ... and an empty string as ""
        ),
    )
    return pd.DataFrame({n: _column(table.column(n)) for n in names}, columns=names)


def _column(col: pa.ChunkedArray) -> pd.Series:
    """One column as the row-by-row read types it: a text column with no value at all is an
    object column of None there (nothing to infer a string dtype from), so it is here too."""
    if pa.types.is_string(col.type) and col.null_count == len(col):
        return pd.Series([None] * len(col), dtype=object)
    out: pd.Series = col.to_pandas()
    return out
