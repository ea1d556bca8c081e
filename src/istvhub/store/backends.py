"""SQLite (embedded default) and PostgreSQL (multi-user) implementations of :class:`Store`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from istvhub._errors import StoreError
from istvhub.store import migrate, schema
from istvhub.store.base import Store
from istvhub.store.rows import RECORD_STORE_COLUMNS, RecordColumns, records_to_columns

_SCHEMA_LOCK_KEY = (
    0x157B_0B00  # advisory lock id for concurrent schema create/upgrade on PostgreSQL
)


class SQLiteStore(Store):
    """One file, WAL journal, foreign keys on, a busy timeout; writers take BEGIN IMMEDIATE so two
    uploads of the same month queue instead of interleaving."""

    def __init__(
        self,
        url: str,
        registry: Path | None = None,
        *,
        busy_timeout_ms: int = 30_000,
        auto_upgrade: bool | None = None,
    ):
        dbfile = sa.engine.make_url(url).database
        if dbfile and dbfile != ":memory:":
            Path(dbfile).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            if conn.get_execution_options().get("sqlite_immediate"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        super().__init__(url, engine, registry, auto_upgrade=auto_upgrade)

    def _init_schema(self) -> None:
        try:
            with self._write_txn() as conn:
                self.upgraded_from = migrate.prepare(conn, auto_upgrade=self._auto_upgrade)
                for op in ("UPDATE", "DELETE"):  # the audit log is append-only
                    conn.exec_driver_sql(
                        f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} "
                        "ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                    )
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open SQLite store: {type(exc).__name__}") from exc

    @contextmanager
    def _write_txn(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    def _lock_department_period(self, conn: Connection, department: str, period: str) -> None:
        """BEGIN IMMEDIATE already holds the database write lock."""

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """An flock on a file beside the database: every process on this host sees it."""
        import fcntl

        dbfile = sa.engine.make_url(self.url).database
        if not dbfile or dbfile == ":memory:":
            yield  # one process only
            return
        locks = Path(dbfile).parent / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(name.encode()).hexdigest()[:24]
        with open(locks / f"{digest}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _insert_ignore(self, table: sa.Table) -> Any:
        return sqlite.insert(table).on_conflict_do_nothing()

    sqlite_text = True

    def _bulk_insert_records(
        self, conn: Connection, sid: int, df: pd.DataFrame | RecordColumns
    ) -> None:
        """Plain DB-API executemany of pre-formatted values: the fastest path on sqlite3."""
        if not len(df):
            return
        for names, cols, n in _converted(df, sqlite_text=True):
            names.append("submission_id")
            cols.append([sid] * n)
            ident = ", ".join(f'"{c}"' for c in names)
            marks = ", ".join("?" for _ in names)
            conn.exec_driver_sql(
                f'INSERT INTO "{schema.records.name}" ({ident}) VALUES ({marks})',
                list(zip(*cols, strict=True)),
            )


#: records are converted to driver values this many rows at a time, inside the one
#: transaction: a 50 MB upload then needs a slice's Python objects, not the whole file's
INSERT_CHUNK_ROWS = 20_000


def _parts(df: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(df), INSERT_CHUNK_ROWS):
        yield df.iloc[start : start + INSERT_CHUNK_ROWS]


def _converted(
    df: pd.DataFrame | RecordColumns, *, sqlite_text: bool
) -> Iterator[tuple[list[str], list[list[Any]], int]]:
    """(names, column values, rows) a chunk at a time; records converted already as they are."""
    if isinstance(df, RecordColumns):
        yield list(df.names), list(df.cols), df.rows
        return
    for part in _parts(df):
        names, cols = records_to_columns(part, sqlite_text=sqlite_text)
        yield names, cols, len(part)


#: the audit log is append-only: UPDATE and DELETE raise (TRUNCATE needs the table owner)
_PG_AUDIT_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION istvhub_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $f$;
CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION istvhub_audit_append_only();
"""


def _lock_key(department: str, period: str) -> int:
    h = hashlib.sha256(f"istvhub\x1f{department}\x1f{period}".encode()).digest()
    return int.from_bytes(h[:8], "big", signed=True)


class PostgresStore(Store):
    """PostgreSQL: writers of one department-month serialise on a transaction advisory lock."""

    def __init__(
        self, url: str, registry: Path | None = None, *, auto_upgrade: bool | None = None
    ) -> None:
        engine = sa.create_engine(url, pool_pre_ping=True)
        super().__init__(url, engine, registry, auto_upgrade=auto_upgrade)

    def _init_schema(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
                self.upgraded_from = migrate.prepare(conn, auto_upgrade=self._auto_upgrade)
                conn.exec_driver_sql(_PG_AUDIT_APPEND_ONLY)
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot reach PostgreSQL store: {type(exc).__name__}") from exc

    @contextmanager
    def _write_txn(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _lock_department_period(self, conn: Connection, department: str, period: str) -> None:
        conn.execute(
            sa.text("select pg_advisory_xact_lock(:k)"), {"k": _lock_key(department, period)}
        )

    def _insert_ignore(self, table: sa.Table) -> Any:
        return postgresql.insert(table).on_conflict_do_nothing()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """A session advisory lock: shared by every worker on every host using this database."""
        h = hashlib.sha256(f"istvhub-exclusive\x1f{name}".encode()).digest()
        key = int.from_bytes(h[:8], "big", signed=True)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": key})

    def _bulk_insert_records(
        self, conn: Connection, sid: int, df: pd.DataFrame | RecordColumns
    ) -> None:
        """COPY into ``records``: an order of magnitude faster than INSERT batches."""
        if not len(df):
            return
        raw = conn.connection.driver_connection
        if raw is None or not hasattr(raw, "cursor"):  # pragma: no cover - other drivers
            super()._bulk_insert_records(conn, sid, df)
            return
        # the names records_to_columns returns, without converting an empty frame for them
        # (that cost ~60 ms of pandas calls per file: issue 16, 24,000 small files)
        if isinstance(df, RecordColumns):
            names = [*df.names, "submission_id"]
        else:
            names = [*(c for c in RECORD_STORE_COLUMNS if c in df.columns), "submission_id"]
        ident = ", ".join(f'"{c}"' for c in names)
        table = schema.records.name
        with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({ident}) FROM STDIN') as cp:
            for _names, cols, n in _converted(df, sqlite_text=False):
                cols.append([sid] * n)
                for r in zip(*cols, strict=True):
                    cp.write_row(r)
