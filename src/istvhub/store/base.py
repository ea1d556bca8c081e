"""The store behind one small interface (the splink pattern): SQLite embedded, PostgreSQL shared.

Everything here is SQLAlchemy Core and works on both dialects; the two subclasses only differ in
how they connect and how a department-month is locked while a new version is written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from istvhub.records import GEOCODE_COLUMNS
from istvhub.store import schema
from istvhub.store.registry import DEPARTMENT_COLUMNS, read_registry, registry_path
from istvhub.store.rows import (
    FLOAT_COLUMNS,
    RecordColumns,
    records_to_columns,
    records_to_rows,
    result_frame,
)
from istvhub.store.submissions import StoreResult, StreamTotals, store_submission

__all__ = ["Store", "StoreResult", "StreamTotals"]


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

    #: dates and times as SQLite text (see ``records_to_columns``)
    sqlite_text = False

    def record_columns(self, records: pd.DataFrame) -> RecordColumns:
        """Records converted once for this backend; pass slices (``part``) as the ``records``
        of :meth:`store_submission` (the batch path converts many submissions at once)."""
        names, cols = records_to_columns(records, sqlite_text=self.sqlite_text)
        return RecordColumns(names, cols, len(records))

    def _bulk_insert_records(
        self, conn: Connection, sid: int, df: pd.DataFrame | RecordColumns
    ) -> None:
        if isinstance(df, RecordColumns):  # pragma: no cover - drivers without COPY
            rows = [dict(zip(df.names, vals, strict=True)) for vals in zip(*df.cols, strict=True)]
        else:
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
            return result_frame(
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
            return result_frame(conn.execute(q))

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
            df = result_frame(conn.execute(q))
        for c in FLOAT_COLUMNS.intersection(df.columns):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        return df

    def quarantine(self, submission_id: int | None = None) -> pd.DataFrame:
        t = schema.quarantine
        q = sa.select(t).order_by(t.c.submission_id, t.c.source_row)
        if submission_id is not None:
            q = q.where(t.c.submission_id == submission_id)
        with self.engine.connect() as conn:
            return result_frame(conn.execute(q))

    # --- writes ------------------------------------------------------------------------
    def store_submission(
        self,
        *,
        department: str,
        period: str,
        file_sha256: str,
        source_filename: str,
        adapter: str,
        records: pd.DataFrame | RecordColumns | Iterable[pd.DataFrame | RecordColumns],
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
        return store_submission(
            self,
            department=department,
            period=period,
            file_sha256=file_sha256,
            source_filename=source_filename,
            adapter=adapter,
            records=records,
            quarantine=quarantine,
            rows_total=rows_total,
            rows_skipped=rows_skipped,
            pii_scrubbed=pii_scrubbed,
            uploaded_by=uploaded_by,
            received_at=received_at,
            finish=finish,
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
            return result_frame(
                conn.execute(sa.select(schema.audit_log).order_by(schema.audit_log.c.id))
            )

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
