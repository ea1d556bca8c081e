"""Record statistics: what compliance reads (submissions metadata and per department-month counts
of the current version's records, never record-level text) and what retention archives."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store.base import Store
from istvhub.store.repos._db import Db, engine_of
from istvhub.store.schema import (
    departments,
    quarantine,
    record_stats_archive,
    records,
    submission_stats,
    submissions,
)

#: the counts per department-month: the archive's count columns, the one definition
#: (``istvhub.compliance.columns.STAT_COLUMNS`` is this tuple)
STAT_COLUMNS = tuple(
    c.name for c in record_stats_archive.columns if c.name == "records" or c.name.startswith("n_")
)
DEPT_COLUMNS = ("ods_code", "name", "dept_type", "borough", "sharing_since")
SUB_COLUMNS = (
    "submission_id",
    "department",
    "period",
    "version",
    "status",
    "received_at",
    "rows_total",
    "rows_accepted",
    "rows_quarantined",
    "rows_skipped",
)


@dataclass
class ComplianceRows:
    """The raw compliance inputs: three frames and quarantine rows per submission."""

    departments: pd.DataFrame
    submissions: pd.DataFrame
    record_stats: pd.DataFrame
    quarantined: dict[int, int]


def _nonblank(col: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    return sa.and_(col.is_not(None), sa.func.length(sa.func.trim(col)) > 0)


def _count_if(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def stat_columns() -> list[sa.ColumnElement[int]]:
    """:data:`STAT_COLUMNS` as aggregate expressions over ``records``."""
    r = records.c
    geo = r.geo_status
    return [
        sa.func.count().label("records"),
        sa.func.count(r.incident_date).label("n_incident_date"),
        sa.func.count(r.incident_time).label("n_incident_time"),
        _count_if(_nonblank(r.location_text)).label("n_location_text"),
        _count_if(r.location_type != "unknown").label("n_location_type"),
        _count_if(r.weapon != "unknown").label("n_weapon"),
        sa.func.count(geo).label("n_geocoded"),
        *(
            _count_if(geo == s).label(f"n_{s}")
            for s in ("located", "home", "unknown", "unmatched", "outside_area", "ambiguous")
        ),
    ]


def record_stats_query() -> sa.Select[tuple[str, str, int]]:
    """Counts per department-month over records of current submissions."""
    r = records.c
    j = records.join(submissions, records.c.submission_id == submissions.c.submission_id)
    return (
        sa.select(r.department, r.period, *stat_columns())
        .select_from(j)
        .where(submissions.c.status == "current")
        .group_by(r.department, r.period)
    )


def fill_stats_statement(submission_ids: Sequence[int] | None) -> sa.Insert:
    """INSERT ... SELECT of :data:`submission_stats` rows from ``records`` for these submissions
    (all when None); the caller deletes their old rows first."""
    r = records.c
    q = sa.select(
        r.submission_id, sa.func.min(r.department), sa.func.min(r.period), *stat_columns()
    )
    if submission_ids is not None:
        q = q.where(r.submission_id.in_(list(submission_ids)))
    q = q.group_by(r.submission_id)
    return submission_stats.insert().from_select(
        ["submission_id", "department", "period", *STAT_COLUMNS], q
    )


def refresh_submission_stats(conn: sa.Connection, submission_ids: Iterable[int]) -> None:
    """Recount these submissions' rows of :data:`submission_stats` inside the caller's write
    transaction (after their records were inserted or re-geocoded)."""
    ids = sorted({int(i) for i in submission_ids})
    t = submission_stats
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        conn.execute(t.delete().where(t.c.submission_id.in_(chunk)))
        conn.execute(fill_stats_statement(chunk))


def rebuild_submission_stats(store: Store) -> None:
    """Recount every submission (after bulk SQL writes to ``records`` outside the store, e.g. the
    scale benchmark's copies), in one write transaction."""
    with store._write_txn() as conn:
        conn.execute(submission_stats.delete())
        conn.execute(fill_stats_statement(None))


def submission_stats_query() -> sa.Select[tuple[str, str, int]]:
    """Counts per department-month of current submissions, read from :data:`submission_stats`
    (one row per submission, not one per record)."""
    t = submission_stats
    j = t.join(submissions, t.c.submission_id == submissions.c.submission_id)
    return (
        sa.select(
            t.c.department,
            t.c.period,
            *(sa.func.sum(t.c[c]).label(c) for c in STAT_COLUMNS),
        )
        .select_from(j)
        .where(submissions.c.status == "current")
        .group_by(t.c.department, t.c.period)
    )


def _with_archived(conn: sa.Connection, stats: pd.DataFrame) -> pd.DataFrame:
    """Add the statistics retention archived for current submissions whose records are gone (and
    so have no :data:`submission_stats` row: ones deleted before revision 0006, or recounted
    since)."""
    a = record_stats_archive
    has_row = sa.select(submission_stats.c.submission_id).where(
        submission_stats.c.submission_id == a.c.submission_id
    )
    q = (
        sa.select(a.c.department, a.c.period, *(a.c[c] for c in STAT_COLUMNS))
        .select_from(a.join(submissions, a.c.submission_id == submissions.c.submission_id))
        .where(submissions.c.status == "current", ~has_row.exists())
    )
    arch = pd.DataFrame(
        conn.execute(q).mappings().all(), columns=["department", "period", *STAT_COLUMNS]
    )
    if arch.empty:
        return stats
    both = pd.concat([stats, arch], ignore_index=True)
    for c in STAT_COLUMNS:
        both[c] = pd.to_numeric(both[c]).fillna(0).astype("int64")
    return both.groupby(["department", "period"], as_index=False)[list(STAT_COLUMNS)].sum()


def compliance_rows(db: Db) -> ComplianceRows:
    """Departments, submissions (all versions), quarantine counts and record statistics."""
    try:
        with engine_of(db).connect() as conn:
            deps = pd.DataFrame(
                conn.execute(sa.select(*(departments.c[c] for c in DEPT_COLUMNS))).mappings().all(),
                columns=list(DEPT_COLUMNS),
            )
            subs = pd.DataFrame(
                conn.execute(sa.select(*(submissions.c[c] for c in SUB_COLUMNS))).mappings().all(),
                columns=list(SUB_COLUMNS),
            )
            q = conn.execute(
                sa.select(quarantine.c.submission_id, sa.func.count().label("n")).group_by(
                    quarantine.c.submission_id
                )
            ).all()
            stats = pd.DataFrame(
                conn.execute(submission_stats_query()).mappings().all(),
                columns=["department", "period", *STAT_COLUMNS],
            )
            if sa.inspect(conn).has_table(record_stats_archive.name):
                stats = _with_archived(conn, stats)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read compliance inputs from the store ({type(exc).__name__}); "
            "has anything been ingested into this database?"
        ) from None
    return ComplianceRows(deps, subs, stats, {int(sid): int(n) for sid, n in q})
