"""The append-only audit log as the admin pages read it (``Store.audit`` writes it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from istvhub.store.repos._db import Db, engine_of
from istvhub.store.schema import audit_log


def page(db: Db, *, after_id: int, limit: int, action: str | None = None) -> list[dict[str, Any]]:
    """Entries with id above ``after_id``, oldest first, at most ``limit``; one action or all."""
    q = sa.select(audit_log).where(audit_log.c.id > after_id).order_by(audit_log.c.id).limit(limit)
    if action:
        q = q.where(audit_log.c.action == action)
    with engine_of(db).connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
