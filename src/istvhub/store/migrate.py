"""Schema versions (Alembic): create, recognise and upgrade the store's schema in place.

A new database gets ``schema.metadata`` directly and is stamped at the head revision (fast, and
``tests/test_migrations.py`` proves it equals the migrated schema). A database of release 0.1.0
(tables but no ``alembic_version``) is recognised as the first revision and upgraded. Every call
runs on a connection the store holds inside its schema lock, so two processes starting at once
cannot migrate twice.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from istvhub._errors import StoreError
from istvhub.store import schema

log = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).with_name("migrations")
#: the revision that reproduces release 0.1.0's ``create_all`` (the last release without Alembic)
BASELINE = "0001"


def alembic_config(conn: Connection | None = None) -> Config:
    """An Alembic config with no ini file: the script directory ships inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.attributes["connection"] = conn
    return cfg


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "no migration scripts shipped"
    return head


def current_revision(conn: Connection) -> str | None:
    """The stored revision; ``BASELINE`` for a 0.1.0 database; None for an empty one."""
    rev = MigrationContext.configure(conn).get_current_revision()
    if rev is None and sa.inspect(conn).has_table(schema.records.name):
        return BASELINE
    return rev


def prepare(conn: Connection, *, auto_upgrade: bool = True) -> str | None:
    """Make the schema current. Returns the revision it upgraded from (None if nothing to do).

    Raises StoreError when the schema is old and ``auto_upgrade`` is off, or when the database
    carries a revision this istvhub does not know (made by a newer release)."""
    ctx = MigrationContext.configure(conn)
    stored = ctx.get_current_revision()
    if stored is None and not sa.inspect(conn).has_table(schema.records.name):
        schema.metadata.create_all(conn)
        ctx.stamp(_scripts(), "head")
        return None
    rev = stored or BASELINE
    head = head_revision()
    if rev == head:
        return None
    try:
        _scripts().get_revision(rev)
    except Exception as exc:  # noqa: BLE001 - alembic raises several kinds for unknown ids
        raise StoreError(
            f"the database schema is at revision {rev}, which this istvhub does not know "
            "(made by a newer release?): upgrade istvhub"
        ) from exc
    if not auto_upgrade:
        raise StoreError(
            f"the database schema is at revision {rev} and this istvhub needs {head}: "
            "run `istvhub db upgrade` (automatic upgrade is off)"
        )
    if stored is None:
        ctx.stamp(_scripts(), BASELINE)
    command.upgrade(alembic_config(conn), "head")
    log.info("database schema upgraded from revision %s to %s", rev, head)
    return rev


def pending(conn: Connection) -> list[str]:
    """Revision ids between the stored schema and head, oldest first (empty when current)."""
    rev = current_revision(conn)
    if rev is None:
        return []
    revs = [s.revision for s in _scripts().iterate_revisions(head_revision(), rev)]
    return [r for r in reversed(revs) if r != rev]
