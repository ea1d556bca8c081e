"""The hot-block layer read: current records of a period range, optionally only those that can
reach the units of a borough filter.

A borough filter selects *units* (blocks, hexes, areas) by where they lie, and each unit counts
every record assigned to it, whatever borough the record was geocoded to
(``hotblocks.scope``). So ``where borough = 'Lambeth'`` would drop records that snap onto a
Lambeth block from across the boundary. Instead the caller gives, per assignment rule, the box a
record's point must lie in to reach a unit in scope (``hotblocks.readscope``), and this module
reads the union: the records geocoded to the boroughs (the totals and the summary count them),
plus each rule's records whose point lies in that rule's box, plus records whose stored area
code is one of the scope's areas. Everything else cannot change a published figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store.repos._db import Db, engine_of
from istvhub.store.repos._pgcopy import copy_select
from istvhub.store.schema import records, submissions

_FLOAT_COLS = frozenset({"lat", "lon", "easting", "northing", "precision_m", "confidence"})
#: how the PostgreSQL COPY read parses the non-text columns (as the row-by-row read types them)
_ARROW_TYPES: dict[str, pa.DataType] = {
    **{c: pa.float64() for c in _FLOAT_COLS},
    "arrival_at": pa.timestamp("us"),
    "incident_date": pa.date32(),
    "incident_time": pa.time64("us"),
}


@dataclass(frozen=True)
class Box:
    """An easting/northing rectangle (EPSG:27700, metres)."""

    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class BoxRule:
    """Located records of ``match_types`` (``()``: any) whose point lies in ``box`` widened by
    ``clip(factor * precision_m, lo, hi)`` (``radius`` None: by nothing)."""

    box: Box
    match_types: tuple[str, ...] = ()
    radius: tuple[float, float, float] | None = None  # (factor, lo, hi)


@dataclass(frozen=True)
class ReadScope:
    """What a borough-filtered build needs to read (see the module docstring)."""

    boroughs: tuple[str, ...]
    rules: tuple[BoxRule, ...] = ()
    #: stored area-code column -> the codes of the areas in scope
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _rule_clause(rule: BoxRule) -> sa.ColumnElement[bool]:
    r = records.c
    b = rule.box
    if rule.radius is None:
        m: Any = 0.0
    else:
        f, lo, hi = rule.radius
        p = sa.func.coalesce(r.precision_m, 0.0) * f
        m = sa.case((p < lo, lo), (p > hi, hi), else_=p)
    cond = sa.and_(
        r.easting >= b.x0 - m,
        r.easting <= b.x1 + m,
        r.northing >= b.y0 - m,
        r.northing <= b.y1 + m,
    )
    if rule.match_types:
        cond = sa.and_(r.match_type.in_(rule.match_types), cond)
    return cond


def _scope_clause(scope: ReadScope) -> sa.ColumnElement[bool]:
    r = records.c
    parts: list[sa.ColumnElement[bool]] = [
        sa.func.lower(r.borough).in_([b.lower() for b in scope.boroughs])
    ]
    if scope.rules:
        parts.append(
            sa.and_(r.geo_status == "located", sa.or_(*(_rule_clause(x) for x in scope.rules)))
        )
    for col, codes in scope.codes.items():
        if codes:
            parts.append(r[col].in_(list(codes)))
    return sa.or_(*parts)


def layer_records(
    db: Db,
    columns: Sequence[str],
    *,
    period_from: str,
    period_to: str,
    scope: ReadScope | None = None,
    departments: Sequence[str] = (),
    weapons: Sequence[str] = (),
    location_types: Sequence[str] = (),
) -> pd.DataFrame:
    """``columns`` of the current records of ``period_from..period_to`` (what
    ``Store.current_records`` returns, same order and dtypes), narrowed to ``scope`` and to the
    filters that apply to every record of a build (department, weapon, location type). On
    PostgreSQL the rows come through COPY into typed columns (``_pgcopy``), else row by row."""
    r, s = records.c, submissions.c
    q = (
        sa.select(*(r[c] for c in columns))
        .join(submissions, s.submission_id == r.submission_id)
        .where(s.status == "current", r.period >= period_from, r.period <= period_to)
        .order_by(r.department, r.period, r.source_row)
    )
    if departments:
        q = q.where(r.department.in_([d.upper() for d in departments]))
    if weapons:
        q = q.where(r.weapon.in_(list(weapons)))
    if location_types:
        q = q.where(r.location_type.in_(list(location_types)))
    if scope is not None:
        q = q.where(_scope_clause(scope))
    try:
        with engine_of(db).connect() as conn:
            fast = copy_select(conn, q, _ARROW_TYPES)
            if fast is not None:
                return fast
            rows = conn.execute(q).all()
    except (sa.exc.SQLAlchemyError, psycopg.Error, pa.ArrowException) as exc:
        raise StoreError(
            f"cannot read layer records from the store ({type(exc).__name__})"
        ) from None
    return _columns_frame(rows, list(columns))


def _columns_frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    """Rows -> frame column by column (``DataFrame(rows)`` probes every Row object for named-
    tuple fields, which cost more than the query itself at a London year)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    data: dict[str, Any] = {}
    for name, vals in zip(columns, cols, strict=True):
        if name in _FLOAT_COLS:
            data[name] = pd.to_numeric(
                pd.Series(np.array(vals, dtype=object)), errors="coerce"
            ).astype("float64")
        else:
            data[name] = pd.Series(list(vals), dtype=None if vals else object)
    return pd.DataFrame(data, columns=columns)
