"""``istvhub rekey-records``: release-0.1 record ids become keyed hashes, in place.

Release 0.1 stored ``sha256(department, row key)[:24]``: when the row key was an NHS number, the
id gave it back in under a second by brute force (issue 14, point 3). Ids are now the HMAC of
that legacy id under the installation secret (:func:`istvhub.records.keyed_record_id`), so a
legacy id converts exactly and re-uploads of old months keep their ids. Legacy ids are told apart
by their length (24 characters; keyed ids have 32). One transaction; audited.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlalchemy as sa

from istvhub.records import keyed_record_id
from istvhub.store import schema

_LEGACY = re.compile(r"^[0-9a-f]{24}$")


def rekey_records(store, *, home: Path | None = None, dry_run: bool = False) -> int:
    """Rekey every legacy record id; returns how many rows changed (or would)."""
    r = schema.records
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(r.c.id, r.c.record_id).where(sa.func.length(r.c.record_id) == 24)
        ).all()
    todo = [(i, rid) for i, rid in rows if _LEGACY.match(rid)]
    if dry_run or not todo:
        return len(todo)
    new = {rid: keyed_record_id(rid, home=home) for _, rid in todo}
    with store.engine.begin() as conn:
        conn.execute(
            r.update().where(r.c.id == sa.bindparam("_id")).values(record_id=sa.bindparam("_rid")),
            [{"_id": i, "_rid": new[rid]} for i, rid in todo],
        )
        store._audit(conn, "cli", "rekey-records", json.dumps({"records": len(todo)}))
    return len(todo)
