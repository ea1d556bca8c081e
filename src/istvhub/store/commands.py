"""``istvhub db upgrade | current | revision``: the schema's version, in place (Alembic).

An installed hub is upgraded with ``istvhub db upgrade`` (every command also upgrades on open
unless ``ISTVHUB_DB_AUTO_UPGRADE=0``, which a deployment with several workers may prefer, running
the upgrade once before starting them).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from istvhub.store import migrate

db_app = typer.Typer(help="The database schema: show its version, upgrade it in place.")

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL (default: ISTVHUB_DB or the home's SQLite)"),
]


def _url(db: str | None) -> str:
    if db:
        return db
    from istvhub.core.config import get_settings

    return get_settings().db_url


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: an empty database
    head: str
    pending: list[str]


def schema_state(url: str) -> SchemaState:
    """Stored revision, head and pending revisions, read without changing anything."""
    from istvhub._errors import StoreError

    target = sa.engine.make_url(url)
    if target.get_backend_name() == "sqlite" and target.database not in (None, "", ":memory:"):
        if not Path(target.database).is_file():
            raise StoreError(f"no database at {target.database} yet (any command creates it)")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rev = migrate.current_revision(conn)
            todo = migrate.pending(conn)
    finally:
        engine.dispose()
    return SchemaState(rev, migrate.head_revision(), todo)


@db_app.command("current")
def current_cmd(db: DbOpt = None) -> None:
    """Print the schema revision of the database and whether an upgrade is pending."""
    state = schema_state(_url(db))
    if state.current is None:
        typer.echo(f"empty database (this istvhub creates schema revision {state.head})")
        return
    todo = state.pending
    msg = f"schema revision {state.current} (this istvhub: {state.head})"
    typer.echo(msg + (f"; {len(todo)} upgrade(s) pending: istvhub db upgrade" if todo else ""))


@db_app.command("upgrade")
def upgrade_cmd(db: DbOpt = None) -> None:
    """Upgrade the database schema to this istvhub's revision, in one transaction."""
    from istvhub.store import open_store

    store = open_store(_url(db), auto_upgrade=True)
    try:
        if store.upgraded_from:
            typer.echo(f"upgraded schema from {store.upgraded_from} to {migrate.head_revision()}")
        else:
            typer.echo(f"schema is current ({migrate.head_revision()})")
    finally:
        store.dispose()


@db_app.command("revision")
def revision_cmd(
    message: Annotated[str, typer.Option("-m", "--message", help="what changes and why")],
) -> None:
    """For developers: write a migration for what `store/schema.py` adds to the migrated schema."""
    from alembic import command

    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            with engine.begin() as conn:
                cfg = migrate.alembic_config(conn)
                command.upgrade(cfg, "head")
                rev_id = f"{int(migrate.head_revision()) + 1:04d}"  # ids in order: 0001, 0002...
                script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    path = getattr(script, "path", None)
    typer.echo(f"wrote {path}: check it, then run tests/test_migrations.py")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
