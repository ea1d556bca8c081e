"""The store behind one small interface (the splink pattern): SQLite embedded, PostgreSQL shared.

Everything here is SQLAlchemy Core and works on both dialects; the two subclasses only differ in
how they connect and how a department-month is locked while a new version is written.
"""

from __future__ import annotations

import csv
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from istvhub._errors import StoreError
from istvhub.core.config import DATA_DIR
from istvhub.records import GEOCODE_COLUMNS
from istvhub.store import schema

#: The registry shipped with the package; ``ISTVHUB_DEPARTMENTS`` points elsewhere (tests, forks).
DEFAULT_REGISTRY = DATA_DIR / "departments.csv"
DEPARTMENT_COLUMNS = (
    "ods_code",
    "name",
    "dept_type",
    "borough",
    "lat",
    "lon",
    "easting",
    "northing",
    "sharing_since",
    "source",
)
#: Columns of ``records`` an ingest writes (``id`` and ``submission_id`` are the store's own).
RECORD_STORE_COLUMNS = tuple(
    c.name for c in schema.records.columns if c.name not in ("id", "submission_id")
)
_FLOAT_COLS = {"lat", "lon", "easting", "northing", "precision_m", "confidence"}


@dataclass(frozen=True)
class StoreResult:
    """What happened to one upload."""

    status: str  # "stored" | "unchanged"
    department: str
    period: str
    submission_id: int
    version: int
    superseded_version: int | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def registry_path() -> Path:
    env = os.environ.get("ISTVHUB_DEPARTMENTS")
    return Path(env) if env else DEFAULT_REGISTRY


def read_registry(path: Path) -> list[dict[str, Any]]:
    """Rows of a department registry CSV, typed for the ``departments`` table."""
    rows: list[dict[str, Any]] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for raw in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for col in DEPARTMENT_COLUMNS:
                val = (raw.get(col) or "").strip()
                if col in _FLOAT_COLS:
                    row[col] = float(val) if val else None
                else:
                    row[col] = val or None
            if not row["ods_code"]:
                continue
            row["ods_code"] = row["ods_code"].upper()
            row["name"] = row["name"] or row["ods_code"]
            row["dept_type"] = row["dept_type"] or "01"
            rows.append(row)
    return rows


def _frame(result: sa.CursorResult[Any]) -> pd.DataFrame:
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _py(v: Any) -> Any:
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
    v = _py(v)
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v)[:10])


def _as_time(v: Any) -> time | None:
    v = _py(v)
    if v is None or isinstance(v, time):
        return v
    if isinstance(v, datetime):
        return v.time()
    return time.fromisoformat(str(v))


def _as_datetime(v: Any) -> datetime | None:
    v = _py(v)
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


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
        elif col in _FLOAT_COLS:
            f = pd.to_numeric(s, errors="coerce").astype("float64")
            cols[col] = [None if x != x else float(x) for x in f.tolist()]
        elif col == "source_row":
            cols[col] = [int(x) for x in s.tolist()]
        else:
            cols[col] = [_py(x) for x in s.tolist()]
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
        elif col in _FLOAT_COLS:
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
class StreamTotals:
    """What a streamed upload knows only after its last slice (see ``store_submission``)."""

    quarantine: pd.DataFrame
    rows_total: int
    rows_skipped: int = 0
    pii_scrubbed: int = 0


class Store(ABC):
    """Submissions, records, quarantine and audit behind one interface."""

    def __init__(
        self,
        url: str,
        engine: Engine,
        registry: Path | None = None,
        *,
        auto_upgrade: bool | None = None,
    ) -> None:
        self.url = url
        self.engine = engine
        if auto_upgrade is None:
            from istvhub.core.config import get_settings

            auto_upgrade = get_settings().db_auto_upgrade
        self._auto_upgrade = auto_upgrade
        #: the schema revision this open upgraded from (None: it was current or new)
        self.upgraded_from: str | None = None
        self._init_schema()
        reg = registry if registry is not None else registry_path()
        if reg and Path(reg).is_file():
            self.load_registry(Path(reg))

    # --- backend specifics -------------------------------------------------------------
    @abstractmethod
    def _init_schema(self) -> None:
        """Create or upgrade the schema (``store.migrate``), safe when several processes start at
        once: it runs under the store's schema lock."""

    @abstractmethod
    def _write_txn(self) -> Any:
        """Context manager: a write transaction that serialises writers of the store."""

    @abstractmethod
    def _lock_department_period(self, conn: Connection, department: str, period: str) -> None:
        """Hold a lock on (department, period) until the transaction ends."""

    @abstractmethod
    def _insert_ignore(self, table: sa.Table) -> Any:
        """An INSERT that skips rows whose primary key exists."""

    def _bulk_insert_records(self, conn: Connection, sid: int, df: pd.DataFrame) -> None:
        rows = records_to_rows(df)
        for row in rows:
            row["submission_id"] = sid
        if rows:
            conn.execute(schema.records.insert(), rows)

    # --- registry ----------------------------------------------------------------------
    def load_registry(self, path: Path) -> int:
        """Insert departments missing from the table and refresh changed ones; returns changes."""
        rows = read_registry(path)
        if not rows:
            return 0
        changed = 0
        with self._write_txn() as conn:
            existing = {
                r["ods_code"]: dict(r)
                for r in conn.execute(sa.select(schema.departments)).mappings()
            }
            new = [r for r in rows if r["ods_code"] not in existing]
            if new:
                conn.execute(self._insert_ignore(schema.departments), new)
                changed += len(new)
            t = schema.departments
            for r in rows:
                old = existing.get(r["ods_code"])
                if old is not None and any(old.get(k) != r[k] for k in DEPARTMENT_COLUMNS):
                    conn.execute(
                        t.update()
                        .where(t.c.ods_code == r["ods_code"])
                        .values(**{k: r[k] for k in DEPARTMENT_COLUMNS if k != "ods_code"})
                    )
                    changed += 1
        return changed

    def departments(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return _frame(
                conn.execute(sa.select(schema.departments).order_by(schema.departments.c.ods_code))
            )

    def department_codes(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(schema.departments.c.ods_code)).scalars())

    # --- reads -------------------------------------------------------------------------
    def submissions(
        self, department: str | None = None, *, current_only: bool = False
    ) -> pd.DataFrame:
        t = schema.submissions
        q = sa.select(t).order_by(t.c.department, t.c.period, t.c.version)
        if department:
            q = q.where(t.c.department == department.upper())
        if current_only:
            q = q.where(t.c.status == "current")
        with self.engine.connect() as conn:
            return _frame(conn.execute(q))

    def current_sha256(self, department: str, period: str) -> str | None:
        t = schema.submissions
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(t.c.file_sha256).where(
                    t.c.department == department, t.c.period == period, t.c.status == "current"
                )
            ).scalar_one_or_none()

    def current_records(
        self,
        department: str | None = None,
        period_from: str | None = None,
        period_to: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Records of current submissions only: the analysis set. ``columns`` limits the read
        to what the caller uses (a London-wide decade is millions of rows: every unused text
        column costs memory per row)."""
        r, s = schema.records, schema.submissions
        cols = [r.c[c] for c in columns] if columns is not None else list(r.c)
        q = (
            sa.select(*cols)
            .join(s, s.c.submission_id == r.c.submission_id)
            .where(s.c.status == "current")
            .order_by(r.c.department, r.c.period, r.c.source_row)
        )
        if department:
            q = q.where(r.c.department == department.upper())
        if period_from:
            q = q.where(r.c.period >= period_from)
        if period_to:
            q = q.where(r.c.period <= period_to)
        with self.engine.connect() as conn:
            df = _frame(conn.execute(q))
        for c in _FLOAT_COLS.intersection(df.columns):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        return df

    def quarantine(self, submission_id: int | None = None) -> pd.DataFrame:
        t = schema.quarantine
        q = sa.select(t).order_by(t.c.submission_id, t.c.source_row)
        if submission_id is not None:
            q = q.where(t.c.submission_id == submission_id)
        with self.engine.connect() as conn:
            return _frame(conn.execute(q))

    # --- writes ------------------------------------------------------------------------
    def store_submission(
        self,
        *,
        department: str,
        period: str,
        file_sha256: str,
        source_filename: str,
        adapter: str,
        records: pd.DataFrame | Iterable[pd.DataFrame],
        quarantine: pd.DataFrame | None = None,
        rows_total: int | None = None,
        rows_skipped: int = 0,
        pii_scrubbed: int = 0,
        uploaded_by: str | None = None,
        received_at: datetime | None = None,
        finish: Callable[[], StreamTotals] | None = None,
    ) -> StoreResult:
        """Store one department-month upload as a new version, in ONE transaction.

        The previous current version becomes ``superseded`` (kept). A file byte-identical to the
        current version changes nothing. Any error rolls everything back. ``received_at``
        (aware; default now) records when the file arrived, e.g. when back-filling history.

        ``records`` may be an iterable of frames (a large upload adapted slice by slice, so
        the records of the whole file never exist at once); ``finish``, called after the last
        slice is written and before the commit, returns the quarantine and the totals only
        known then, and may raise to roll the whole upload back.
        """
        department = department.upper()
        qdf = (
            quarantine
            if quarantine is not None
            else pd.DataFrame(columns=["source_row", "field", "reason"])
        )
        parts: Iterable[pd.DataFrame] = [records] if isinstance(records, pd.DataFrame) else records
        n_rows = len(records) if isinstance(records, pd.DataFrame) else 0
        s = schema.submissions
        try:
            with self._write_txn() as conn:
                self._lock_department_period(conn, department, period)
                cur = conn.execute(
                    sa.select(s.c.submission_id, s.c.version, s.c.file_sha256).where(
                        s.c.department == department,
                        s.c.period == period,
                        s.c.status == "current",
                    )
                ).first()
                if cur is not None and cur.file_sha256 == file_sha256:
                    return StoreResult(
                        "unchanged",
                        department,
                        period,
                        cur.submission_id,
                        cur.version,
                        message=(
                            f"{source_filename}: identical to the current version "
                            f"{cur.version} of {department} {period}; nothing changed"
                        ),
                    )
                maxv = conn.execute(
                    sa.select(sa.func.max(s.c.version)).where(
                        s.c.department == department, s.c.period == period
                    )
                ).scalar()
                version = (maxv or 0) + 1
                if cur is not None:
                    conn.execute(
                        s.update()
                        .where(
                            s.c.department == department,
                            s.c.period == period,
                            s.c.status == "current",
                        )
                        .values(status="superseded")
                    )
                sid = conn.execute(
                    s.insert()
                    .values(
                        department=department,
                        period=period,
                        version=version,
                        status="current",
                        received_at=(received_at or datetime.now(UTC)).astimezone(UTC),
                        file_sha256=file_sha256,
                        source_filename=source_filename,
                        adapter=adapter,
                        rows_total=int(
                            rows_total
                            if rows_total is not None
                            else n_rows + len(qdf) + rows_skipped
                        ),
                        rows_accepted=n_rows,
                        rows_quarantined=len(qdf),
                        rows_skipped=int(rows_skipped),
                        pii_scrubbed=int(pii_scrubbed),
                        uploaded_by=uploaded_by,
                    )
                    .returning(s.c.submission_id)
                ).scalar_one()
                if isinstance(records, pd.DataFrame):
                    self._bulk_insert_records(conn, sid, records)
                else:
                    for part in parts:
                        self._bulk_insert_records(conn, sid, part)
                        n_rows += len(part)
                # local import: repos import this module
                from istvhub.store.repos.stats import refresh_submission_stats

                refresh_submission_stats(conn, [sid])
                if finish is not None:
                    totals = finish()
                    qdf = totals.quarantine
                    rows_skipped, pii_scrubbed = totals.rows_skipped, totals.pii_scrubbed
                    conn.execute(
                        s.update()
                        .where(s.c.submission_id == sid)
                        .values(
                            rows_total=int(totals.rows_total),
                            rows_accepted=n_rows,
                            rows_quarantined=len(qdf),
                            rows_skipped=int(rows_skipped),
                            pii_scrubbed=int(pii_scrubbed),
                        )
                    )
                if len(qdf):
                    conn.execute(
                        schema.quarantine.insert(),
                        [
                            {
                                "submission_id": sid,
                                "source_row": int(str(q.source_row)),
                                "field": _py(q.field),
                                "reason": str(q.reason),
                            }
                            for q in qdf.itertuples(index=False)
                        ],
                    )
                self._audit(
                    conn,
                    uploaded_by or "cli",
                    "ingest",
                    json.dumps(
                        {
                            "department": department,
                            "period": period,
                            "version": version,
                            "file": source_filename,
                            "accepted": n_rows,
                            "quarantined": len(qdf),
                            "skipped": int(rows_skipped),
                        }
                    ),
                )
        except (sa.exc.SQLAlchemyError, OSError, ValueError, TypeError) as exc:
            raise StoreError(f"storing {source_filename!r} failed: {type(exc).__name__}") from exc
        except Exception as exc:  # driver errors raised outside SQLAlchemy (PostgreSQL COPY)
            if type(exc).__module__.startswith(("psycopg", "sqlite3")):
                raise StoreError(
                    f"storing {source_filename!r} failed: {type(exc).__name__}"
                ) from exc
            raise
        return StoreResult(
            "stored",
            department,
            period,
            sid,
            version,
            superseded_version=cur.version if cur is not None else None,
            message=(
                f"{source_filename}: stored {department} {period} version {version}"
                + (f" (supersedes version {cur.version})" if cur is not None else "")
            ),
        )

    def gazetteer_versions(self) -> dict[str, int]:
        """Current records per gazetteer version they were geocoded against ("" when never
        geocoded): after a gazetteer rebuild, the ones to re-geocode."""
        r, s = schema.records, schema.submissions
        q = (
            sa.select(r.c.gazetteer_version, sa.func.count())
            .join(s, s.c.submission_id == r.c.submission_id)
            .where(s.c.status == "current")
            .group_by(r.c.gazetteer_version)
        )
        with self.engine.connect() as conn:
            return {str(v or ""): int(n) for v, n in conn.execute(q)}

    def update_geocodes(self, df: pd.DataFrame) -> int:
        """Write geocode results onto records by ``records.id`` (frame has an ``id`` column)."""
        if df.empty:
            return 0
        cols = [
            c for c in (*GEOCODE_COLUMNS, "gazetteer_version", "geocoded_at") if c in df.columns
        ]
        r = schema.records
        rows = records_to_rows(df[cols])
        ids = [int(x) for x in df["id"].tolist()]
        for row, i in zip(rows, ids, strict=True):
            row["_id"] = i
        stmt = (
            r.update()
            .where(r.c.id == sa.bindparam("_id"))
            .values(**{c: sa.bindparam(c) for c in cols})
        )
        from istvhub.store.repos.stats import refresh_submission_stats

        with self._write_txn() as conn:
            conn.execute(stmt, rows)
            sids: set[int] = set()
            for i in range(0, len(ids), 5000):
                chunk = ids[i : i + 5000]
                sids.update(
                    conn.execute(
                        sa.select(r.c.submission_id).where(r.c.id.in_(chunk)).distinct()
                    ).scalars()
                )
            refresh_submission_stats(conn, sids)
        return len(rows)

    def _audit(
        self,
        conn: Connection,
        actor: str,
        action: str,
        detail: str | None,
        client: str | None = None,
    ) -> None:
        conn.execute(
            schema.audit_log.insert().values(
                at=datetime.now(UTC), actor=actor, action=action, detail=detail, client=client
            )
        )

    def audit(
        self, actor: str, action: str, detail: str | None = None, client: str | None = None
    ) -> None:
        with self._write_txn() as conn:
            self._audit(conn, actor, action, detail, client)

    def audit_log(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return _frame(conn.execute(sa.select(schema.audit_log).order_by(schema.audit_log.c.id)))

    # --- tests and tools ---------------------------------------------------------------
    def dump_tables(self, tables: Iterable[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: compare two dumps to prove nothing changed."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for t in schema.metadata.sorted_tables:
                if tables is not None and t.name not in tables:
                    continue
                rows = conn.execute(sa.select(t)).all()
                out[t.name] = sorted((tuple(r) for r in rows), key=repr)
        return out

    @abstractmethod
    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Hold a lock named ``name`` across every process using this store (API workers on
        several hosts included), so work such as a layer export is done once, not per worker."""

    def dispose(self) -> None:
        self.engine.dispose()
