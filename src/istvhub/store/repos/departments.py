"""The department registry as the stages ask about it (the table itself is loaded by
``Store.load_registry``)."""

from __future__ import annotations

import sqlalchemy as sa

from istvhub._errors import StoreError
from istvhub.store.repos._db import Db, engine_of
from istvhub.store.schema import departments


def department_name(db: Db, department: str) -> str | None:
    """The registry name of ``department``, or None when it is not registered."""
    try:
        with engine_of(db).connect() as conn:
            name = conn.execute(
                sa.select(departments.c.name).where(departments.c.ods_code == department.upper())
            ).scalar_one_or_none()
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read departments from the store ({type(exc).__name__})") from None
    return None if name is None else str(name)


def known_department(db: Db, department: str) -> bool:
    return department_name(db, department) is not None


def department_codes(db: Db) -> set[str]:
    """Every registered ODS code (empty when the table does not exist yet)."""
    try:
        with engine_of(db).connect() as conn:
            return {str(c) for c in conn.execute(sa.select(departments.c.ods_code)).scalars()}
    except sa.exc.DBAPIError:
        return set()
