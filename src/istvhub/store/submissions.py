"""Writing one department-month upload as a new version (``Store.store_submission``): the
version bookkeeping, records, quarantine, statistics and audit row in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store import schema
from istvhub.store.rows import RecordColumns, db_value

if TYPE_CHECKING:
    from istvhub.store.base import Store


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


@dataclass
class StreamTotals:
    """What a streamed upload knows only after its last slice (see ``store_submission``)."""

    quarantine: pd.DataFrame
    rows_total: int
    rows_skipped: int = 0
    pii_scrubbed: int = 0


def store_submission(
    store: Store,
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
    """See :meth:`istvhub.store.base.Store.store_submission`."""
    department = department.upper()
    qdf = (
        quarantine
        if quarantine is not None
        else pd.DataFrame(columns=["source_row", "field", "reason"])
    )
    whole = isinstance(records, (pd.DataFrame, RecordColumns))
    parts: Iterable[pd.DataFrame | RecordColumns] = (
        [records] if isinstance(records, (pd.DataFrame, RecordColumns)) else records
    )
    n_rows = len(records) if isinstance(records, (pd.DataFrame, RecordColumns)) else 0
    s = schema.submissions
    try:
        with store._write_txn() as conn:
            store._lock_department_period(conn, department, period)
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
                        rows_total if rows_total is not None else n_rows + len(qdf) + rows_skipped
                    ),
                    rows_accepted=n_rows,
                    rows_quarantined=len(qdf),
                    rows_skipped=int(rows_skipped),
                    pii_scrubbed=int(pii_scrubbed),
                    uploaded_by=uploaded_by,
                )
                .returning(s.c.submission_id)
            ).scalar_one()
            if whole:
                store._bulk_insert_records(conn, sid, records)  # type: ignore[arg-type]
            else:
                for part in parts:
                    store._bulk_insert_records(conn, sid, part)
                    n_rows += len(part)
            # local import: the repos import store.base, which imports this module
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
                            "field": db_value(q.field),
                            "reason": str(q.reason),
                        }
                        for q in qdf.itertuples(index=False)
                    ],
                )
            store._audit(
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
            raise StoreError(f"storing {source_filename!r} failed: {type(exc).__name__}") from exc
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
