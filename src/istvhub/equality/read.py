"""Read grouped counts for a breakdown from the store (the IO edge).

Besides the count, each group gets its *cell key* (``istvhub.disclosure.cellkey``): the sum of its
records' keyed record keys mod 256. The keys are computed here from the record ids, which never
leave this function.
"""

from __future__ import annotations

from pathlib import Path

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
    areas21: tuple[str, ...] = (),
    home: Path | None = None,
) -> pd.DataFrame:
    """Counts (``n``) and cell keys (``ckey``) of current-version records per combination of
    ``by`` over ``start..end`` (``home``: whose installation secret keys the records).

    ``boroughs`` filters on the borough the incident was geocoded to (as the hot-block layers
    do), case-insensitively; ``department`` on the ED that saw the patient. Without either:
    London (every current record, located or not).
    """
    r, s = records.c, submissions.c
    cols = [r[d] for d in by]
    q = (
        sa.select(*cols, r.record_id)
        .select_from(records.join(submissions, r.submission_id == s.submission_id))
        .where(s.status == "current", r.period >= start, r.period <= end)
    )
    if boroughs:
        q = q.where(sa.func.lower(r.borough).in_([b.lower() for b in boroughs]))
    if department:
        q = q.where(r.department == department.upper())
    # Census 2021 areas (issue 19): LSOA codes E01..., MSOA codes E02...
    lsoa21 = [a for a in areas21 if a.upper().startswith("E01")]
    msoa21 = [a for a in areas21 if a.upper().startswith("E02")]
    if lsoa21 or msoa21:
        q = q.where(
            sa.or_(
                r.lsoa21_code.in_([a.upper() for a in lsoa21]),
                r.msoa21_code.in_([a.upper() for a in msoa21]),
            )
        )
    try:
        with engine.connect() as conn:
            rows = conn.execute(q).all()
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read record counts from the store ({type(exc).__name__})"
        ) from None
    from istvhub.disclosure.cellkey import KEY_SPACE, record_keys

    df = pd.DataFrame([tuple(x) for x in rows], columns=[*by, "record_id"])
    df["key"] = record_keys(df["record_id"].tolist(), home=home) if len(df) else []
    df[list(by)] = df[list(by)].astype("object").where(df[list(by)].notna(), None)
    g = df.groupby(list(by), dropna=False, sort=True)
    out = pd.DataFrame({"n": g.size(), "ckey": g["key"].sum() % KEY_SPACE}).reset_index()
    out["n"] = out["n"].astype("int64")
    out["ckey"] = out["ckey"].astype("int64")
    return out[[*by, "n", "ckey"]]
