"""Read the compliance inputs from the store with SQLAlchemy Core (the IO edge of this stage).

Only aggregates leave the database: submissions metadata and per department-month counts of the
current version's records. No record-level text is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.compliance.core import STAT_COLUMNS
from istvhub.core.config import DATA_DIR
from istvhub.store.schema import (
    departments,
    quarantine,
    record_stats_archive,
    records,
    submissions,
)

DEPT_COLUMNS = ["ods_code", "name", "dept_type", "borough", "sharing_since"]
SUB_COLUMNS = [
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
]


@dataclass
class Inputs:
    departments: pd.DataFrame
    submissions: pd.DataFrame
    record_stats: pd.DataFrame


def _nonblank(col: sa.ColumnElement) -> sa.ColumnElement:
    return sa.and_(col.is_not(None), sa.func.length(sa.func.trim(col)) > 0)


def _count_if(cond: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def stat_columns() -> list[sa.ColumnElement]:
    """The :data:`STAT_COLUMNS` as aggregate expressions over ``records`` (also what retention
    archives per submission before it deletes records)."""
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


def record_stats_query() -> sa.Select:
    """Counts per department-month over records of current submissions (see summarise_records)."""
    r = records.c
    cols = [r.department, r.period, *stat_columns()]
    j = records.join(submissions, records.c.submission_id == submissions.c.submission_id)
    return (
        sa.select(*cols)
        .select_from(j)
        .where(submissions.c.status == "current")
        .group_by(r.department, r.period)
    )


def _with_archived(conn: sa.Connection, stats: pd.DataFrame) -> pd.DataFrame:
    """Add the statistics retention archived for current submissions whose records are gone."""
    a = record_stats_archive
    q = (
        sa.select(a.c.department, a.c.period, *(a.c[c] for c in STAT_COLUMNS))
        .select_from(a.join(submissions, a.c.submission_id == submissions.c.submission_id))
        .where(submissions.c.status == "current")
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


def read_registry_csv() -> pd.DataFrame:
    """The shipped registry, used when the store's departments table is still empty."""
    path = DATA_DIR / "departments.csv"
    if not path.is_file():
        return pd.DataFrame(columns=DEPT_COLUMNS)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in DEPT_COLUMNS:
        if c not in df:
            df[c] = None
    df = df[DEPT_COLUMNS].replace({"": None})
    return df


def read_inputs(engine: sa.Engine) -> Inputs:
    """Departments, submissions (all versions) and record counts, as frames."""
    try:
        with engine.connect() as conn:
            deps = pd.DataFrame(
                conn.execute(sa.select(*(departments.c[c] for c in DEPT_COLUMNS))).mappings().all(),
                columns=DEPT_COLUMNS,
            )
            subs = pd.DataFrame(
                conn.execute(sa.select(*(submissions.c[c] for c in SUB_COLUMNS))).mappings().all(),
                columns=SUB_COLUMNS,
            )
            q = conn.execute(
                sa.select(quarantine.c.submission_id, sa.func.count().label("n")).group_by(
                    quarantine.c.submission_id
                )
            ).all()
            stats = pd.DataFrame(
                conn.execute(record_stats_query()).mappings().all(),
                columns=["department", "period", *STAT_COLUMNS],
            )
            if sa.inspect(conn).has_table(record_stats_archive.name):
                stats = _with_archived(conn, stats)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read compliance inputs from the store ({type(exc).__name__}); "
            "has anything been ingested into this database?"
        ) from None
    if deps.empty:
        deps = read_registry_csv()
    if len(subs) and q:
        # The quarantine table is the detailed truth; the counter on the submission a summary.
        qn = dict(q)
        subs["rows_quarantined"] = [
            max(int(v or 0), int(qn.get(sid, 0)))
            for sid, v in zip(subs["submission_id"], subs["rows_quarantined"], strict=True)
        ]
    for c in STAT_COLUMNS:
        stats[c] = stats[c].astype("int64")
    return Inputs(deps, subs, stats)


def engine_for(url: str) -> sa.Engine:
    """An engine for ``url`` (the store's tables must already exist)."""
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"field 'db': invalid database URL ({type(exc).__name__})") from None
