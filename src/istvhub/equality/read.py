"""Read grouped counts for a breakdown from the store (the IO edge): only counts leave SQL."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store.schema import records, submissions


def read_counts(
    engine: sa.Engine,
    by: tuple[str, ...],
    *,
    start: str,
    end: str,
    boroughs: tuple[str, ...] = (),
    department: str | None = None,
) -> pd.DataFrame:
    """Counts of current-version records per combination of ``by`` over ``start..end``.

    ``boroughs`` filters on the borough the incident was geocoded to (as the hot-block layers
    do), case-insensitively; ``department`` on the ED that saw the patient. Without either:
    London (every current record, located or not).
    """
    r, s = records.c, submissions.c
    cols = [r[d] for d in by]
    q = (
        sa.select(*cols, sa.func.count().label("n"))
        .select_from(records.join(submissions, r.submission_id == s.submission_id))
        .where(s.status == "current", r.period >= start, r.period <= end)
        .group_by(*cols)
    )
    if boroughs:
        q = q.where(sa.func.lower(r.borough).in_([b.lower() for b in boroughs]))
    if department:
        q = q.where(r.department == department.upper())
    try:
        with engine.connect() as conn:
            rows = conn.execute(q).all()
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read record counts from the store ({type(exc).__name__})"
        ) from None
    df = pd.DataFrame([tuple(x) for x in rows], columns=[*by, "n"])
    df["n"] = df["n"].astype("int64")
    return df
