"""Records frames <-> database values: the conversions both backends and the store's reads use
(pandas NaN/NaT/numpy scalars become DB-API values; dates and times become ISO text for COPY)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pandas as pd
import sqlalchemy as sa

from istvhub.store import schema

#: Columns of ``records`` an ingest writes (``id`` and ``submission_id`` are the store's own).
RECORD_STORE_COLUMNS = tuple(
    c.name for c in schema.records.columns if c.name not in ("id", "submission_id")
)
#: the float columns of ``records`` and ``departments`` (read back as float64, NaN for NULL)
FLOAT_COLUMNS = {"lat", "lon", "easting", "northing", "precision_m", "confidence"}


def result_frame(result: sa.CursorResult[Any]) -> pd.DataFrame:
    """A query result as a frame with the result's column names."""
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def db_value(v: Any) -> Any:
    """A pandas cell as a DB-API value (NaN/NaT/NA -> None, numpy scalars -> Python)."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item"):
        return v.item()
    return v


def _as_date(v: Any) -> date | None:
    v = db_value(v)
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v)[:10])


def _as_time(v: Any) -> time | None:
    v = db_value(v)
    if v is None or isinstance(v, time):
        return v
    if isinstance(v, datetime):
        return v.time()
    return time.fromisoformat(str(v))


def records_to_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Canonical records frame -> list of dicts for a Core executemany (vectorised where it can)."""
    n = len(df)
    cols: dict[str, list[Any]] = {}
    for col in RECORD_STORE_COLUMNS:
        if col not in df.columns:
            continue
        s = df[col]
        if col == "arrival_at" or col == "geocoded_at":
            ts = pd.to_datetime(s, errors="coerce")
            vals = [None if pd.isna(x) else x.to_pydatetime() for x in ts]
            if col == "arrival_at":
                vals = [v.replace(tzinfo=None) if v is not None else None for v in vals]
            cols[col] = vals
        elif col == "incident_date":
            cols[col] = [_as_date(x) for x in s]
        elif col == "incident_time":
            cols[col] = [_as_time(x) for x in s]
        elif col in FLOAT_COLUMNS:
            f = pd.to_numeric(s, errors="coerce").astype("float64")
            cols[col] = [None if x != x else float(x) for x in f.tolist()]
        elif col == "source_row":
            cols[col] = [int(x) for x in s.tolist()]
        else:
            cols[col] = [db_value(x) for x in s.tolist()]
    names = list(cols)
    return (
        [dict(zip(names, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
        if n
        else []
    )


def _none_where_na(values: pd.Series) -> list[Any]:
    arr = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    out: list[Any] = arr.tolist()
    return out


def records_to_columns(df: pd.DataFrame, *, sqlite_text: bool) -> tuple[list[str], list[list[Any]]]:
    """Canonical records -> (column names, column value lists) as text the database parses.

    Vectorised (no per-cell Python conversion): dates and times become ISO text in the same
    format SQLAlchemy writes on SQLite (so string comparisons and reads agree), which PostgreSQL
    parses on COPY.
    """
    names: list[str] = []
    cols: list[list[Any]] = []
    for col in RECORD_STORE_COLUMNS:
        if col not in df.columns:
            continue
        s = df[col]
        if col in ("arrival_at", "geocoded_at"):
            ts = pd.to_datetime(s, errors="coerce", utc=col == "geocoded_at")
            if col == "geocoded_at" and not sqlite_text:
                txt = ts.dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
            else:
                txt = ts.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            vals = _none_where_na(txt.where(ts.notna(), None))
        elif col == "incident_date":
            ts = pd.to_datetime(s.astype(object).where(s.notna(), None), errors="coerce")
            vals = _none_where_na(ts.dt.strftime("%Y-%m-%d").where(ts.notna(), None))
        elif col == "incident_time":
            t = s.astype("string").str.slice(0, 8)
            t = t.where(t.notna() & (t != ""), None)
            vals = _none_where_na(t + ".000000")
        elif col in FLOAT_COLUMNS:
            f = pd.to_numeric(s, errors="coerce").astype("float64")
            vals = [None if x != x else x for x in f.tolist()]
        elif col == "source_row":
            vals = [int(x) for x in s.tolist()]
        else:
            vals = _none_where_na(s.astype(object).where(s.notna(), None))
        names.append(col)
        cols.append(vals)
    return names, cols


@dataclass
class RecordColumns:
    """Records already converted by :func:`records_to_columns` (as text the backend parses).

    Why: the conversion is ~40 ms of pandas calls whatever the rows (issue 16); the batch path
    converts the records of many department-months at once and writes each submission's rows
    as a slice of the one conversion."""

    names: list[str]
    cols: list[list[Any]]
    rows: int

    def __len__(self) -> int:
        return self.rows

    def part(self, start: int, stop: int) -> RecordColumns:
        """Rows ``start`` to ``stop`` (as ``iloc``)."""
        stop = min(stop, self.rows)
        return RecordColumns(self.names, [c[start:stop] for c in self.cols], max(0, stop - start))
