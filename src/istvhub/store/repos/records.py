"""Record-level reads of the current versions (equality, feedback, the API's record page), the
layer-cache fingerprint, and the in-place rekey of release-0.1 record ids."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store.base import Store
from istvhub.store.repos._db import Db, engine_of
from istvhub.store.schema import records, submissions

_CURRENT = records.join(submissions, records.c.submission_id == submissions.c.submission_id)


def _rows(db: Db, q: sa.Select[Any], what: str) -> list[tuple[Any, ...]]:
    try:
        with engine_of(db).connect() as conn:
            return [tuple(x) for x in conn.execute(q).all()]
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read {what} from the store ({type(exc).__name__})") from None


def current_groups(
    db: Db,
    by: Sequence[str],
    *,
    start: str,
    end: str,
    boroughs: Sequence[str] = (),
    department: str | None = None,
    areas21: Sequence[str] = (),
) -> pd.DataFrame:
    """Columns ``by`` and ``record_id`` of current-version records over ``start..end``.

    ``boroughs`` filters on the borough the incident was geocoded to, case-insensitively;
    ``department`` on the ED; ``areas21`` on Census 2021 LSOA (E01...) or MSOA (E02...) codes.
    """
    r, s = records.c, submissions.c
    q = (
        sa.select(*(r[d] for d in by), r.record_id)
        .select_from(_CURRENT)
        .where(s.status == "current", r.period >= start, r.period <= end)
    )
    if boroughs:
        q = q.where(sa.func.lower(r.borough).in_([b.lower() for b in boroughs]))
    if department:
        q = q.where(r.department == department.upper())
    lsoa21 = [a.upper() for a in areas21 if a.upper().startswith("E01")]
    msoa21 = [a.upper() for a in areas21 if a.upper().startswith("E02")]
    if lsoa21 or msoa21:
        q = q.where(sa.or_(r.lsoa21_code.in_(lsoa21), r.msoa21_code.in_(msoa21)))
    return pd.DataFrame(_rows(db, q, "record counts"), columns=[*by, "record_id"])


def department_month(db: Db, department: str, period: str, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of the current version of one department-month, in file order."""
    r, s = records.c, submissions.c
    q = (
        sa.select(*(r[c] for c in columns))
        .select_from(_CURRENT)
        .where(s.status == "current", r.department == department.upper(), r.period == period)
        .order_by(r.source_row)
    )
    return pd.DataFrame(_rows(db, q, "records"), columns=list(columns), dtype=object)


def submission_page(db: Db, submission_id: int, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """Every column of one submission's records, in file order, one page."""
    q = (
        sa.select(records)
        .where(records.c.submission_id == submission_id)
        .order_by(records.c.source_row)
        .limit(limit)
        .offset(offset)
    )
    with engine_of(db).connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def data_state(db: Db) -> str:
    """A cheap fingerprint of what the layers depend on: current submissions, last geocode."""
    with engine_of(db).connect() as conn:
        s = conn.execute(
            sa.select(sa.func.max(submissions.c.submission_id), sa.func.count()).where(
                submissions.c.status == "current"
            )
        ).one()
        g = conn.execute(sa.select(sa.func.max(records.c.geocoded_at))).scalar()
    return f"{s[0]}|{s[1]}|{g}"


def rekey(
    store: Store,
    select: Callable[[str], bool],
    new_id: Callable[[str], str],
    *,
    length: int,
    dry_run: bool = False,
) -> int:
    """Replace every record id of ``length`` characters that ``select`` accepts by
    ``new_id(old)``, in one audited transaction; returns how many rows changed (or would)."""
    r = records
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(r.c.id, r.c.record_id).where(sa.func.length(r.c.record_id) == length)
        ).all()
    todo = [(int(i), str(rid)) for i, rid in rows if select(str(rid))]
    if dry_run or not todo:
        return len(todo)
    new = {rid: new_id(rid) for _, rid in todo}
    with store.engine.begin() as conn:
        conn.execute(
            r.update().where(r.c.id == sa.bindparam("_id")).values(record_id=sa.bindparam("_rid")),
            [{"_id": i, "_rid": new[rid]} for i, rid in todo],
        )
        store._audit(conn, "cli", "rekey-records", json.dumps({"records": len(todo)}))
    return len(todo)
