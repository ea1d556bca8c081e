"""Accepted layout mappings per department (issue 17): the store's door for ingest.

A mapping is the TOML text an analyst accepted; ingest finds it again next month by the file's
header signature. Accepting a mapping with the same name replaces the department's earlier one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from istvhub.store import schema


def save_mapping(
    store: Any, *, department: str, name: str, toml: str, accepted_by: str | None = None
) -> int:
    """Store ``toml`` as ``department``'s active mapping ``name``; returns its id (audited)."""
    t = schema.department_mappings
    with store._write_txn() as conn:
        conn.execute(
            t.update().where((t.c.department == department) & (t.c.name == name)).values(active=0)
        )
        res = conn.execute(
            t.insert().values(
                department=department,
                name=name,
                toml=toml,
                accepted_by=accepted_by,
                accepted_at=datetime.now(UTC),
                active=1,
            )
        )
        store._audit(
            conn, accepted_by or "cli", "mapping.accept", f"department={department} name={name}"
        )
        return int(res.inserted_primary_key[0])


def department_mappings(store: Any, department: str) -> list[dict[str, Any]]:
    """The department's active mappings, newest first."""
    t = schema.department_mappings
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t)
            .where((t.c.department == department) & (t.c.active == 1))
            .order_by(t.c.mapping_id.desc())
        ).mappings()
        return [dict(r) for r in rows]


def item_coverage(store: Any, submission_id: int) -> dict[str, float]:
    """Share of a submission's records that carry each ISTV item (for "this version loses items
    the previous one had")."""
    r = schema.records
    known = {
        "location_text": sa.func.count(r.c.location_text),
        "location_type": sa.func.sum(sa.case((r.c.location_type != "unknown", 1), else_=0)),
        "weapon": sa.func.sum(sa.case((r.c.weapon != "unknown", 1), else_=0)),
        "age": sa.func.sum(sa.case((r.c.age_band != "unknown", 1), else_=0)),
        "sex": sa.func.sum(sa.case((r.c.sex != "unknown", 1), else_=0)),
        "incident_date": sa.func.count(r.c.incident_date),
    }
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(sa.func.count().label("n"), *[v.label(k) for k, v in known.items()]).where(
                r.c.submission_id == submission_id
            )
        ).one()
    n = int(row.n or 0)
    return {k: (float(getattr(row, k) or 0) / n if n else 0.0) for k in known}
