"""Read one department's records for one month (the IO edge): only the columns the sheet needs."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store.schema import departments, records, submissions

COLUMNS = ("department", "location_text", "geo_status", "match_type", "reason")


def read_department_month(
    engine: sa.Engine, department: str, period: str
) -> tuple[pd.DataFrame, str]:
    """(records of the current version of ``department`` / ``period``, department name)."""
    r, s = records.c, submissions.c
    q = (
        sa.select(*(r[c] for c in COLUMNS))
        .select_from(records.join(submissions, r.submission_id == s.submission_id))
        .where(s.status == "current", r.department == department.upper(), r.period == period)
        .order_by(r.source_row)
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(q).all()
            name = conn.execute(
                sa.select(departments.c.name).where(departments.c.ods_code == department.upper())
            ).scalar_one_or_none()
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read records from the store ({type(exc).__name__})") from None
    df = pd.DataFrame([tuple(x) for x in rows], columns=list(COLUMNS), dtype=object)
    return df, name or ""


def known_department(engine: sa.Engine, department: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.select(departments.c.ods_code).where(
                    departments.c.ods_code == department.upper()
                )
            ).first()
            is not None
        )
