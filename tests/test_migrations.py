"""Schema migrations: a database made by release 0.1.0 upgrades in place to exactly the schema a new
database gets, keeping its rows, on SQLite and PostgreSQL.

The 0.1.0 databases are recorded DDL (``tests/fixtures/db/release-0.1.0.*.sql``, dumped from that
release's ``create_all``), not regenerated from today's code, so a change to ``schema.py`` without
a revision fails here.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from istvhub._errors import StoreError
from istvhub.store import migrate, open_store, schema

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*expression-based index", "ignore:Skipped unsupported reflection"
)

FIXTURES = Path(__file__).parent / "fixtures" / "db"


def _load_release_010(url: str) -> None:
    """Create the 0.1.0 schema from its recorded DDL and put one month of rows in it."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        engine.dispose()
        con = sqlite3.connect(sa.engine.make_url(url).database)
        con.executescript((FIXTURES / "release-0.1.0.sqlite.sql").read_text())
        con.commit()
        con.close()
        engine = sa.create_engine(url)
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql((FIXTURES / "release-0.1.0.postgres.sql").read_text())
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into departments (ods_code, name, dept_type) "
                "values ('RJ122', 'St Thomas', '01')"
            )
        )
        conn.execute(
            sa.text(
                "insert into submissions (department, period, version, status, received_at, "
                "file_sha256, source_filename, adapter, rows_total, rows_accepted, "
                "rows_quarantined, rows_skipped, pii_scrubbed) values ('RJ122', '2025-02', 1, "
                "'current', :now, :sha, 'rj122.csv', 'istv_mds', 2, 2, 0, 0, 0)"
            ),
            {"now": now, "sha": "a" * 64},
        )
        for i in (1, 2):
            conn.execute(
                sa.text(
                    "insert into records (submission_id, record_id, department, period, "
                    "source_row, arrival_at, location_type, weapon, age_band, sex, location_text) "
                    "values (1, :rid, 'RJ122', '2025-02', :i, :at, 'street', 'sharp', '18-24', "
                    "'male', 'brixton rd')"
                ),
                {"rid": f"r{i}", "i": i, "at": datetime(2025, 2, i, 22, 0)},
            )
    engine.dispose()


def _schema_diff(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, schema.metadata)
    finally:
        engine.dispose()


def _index_names(url: str) -> set[str]:
    """Index names read from the catalogue (reflection skips expression indexes)."""
    engine = sa.create_engine(url)
    q = (
        "select name from sqlite_master where type = 'index'"
        if engine.dialect.name == "sqlite"
        else "select indexname from pg_indexes where schemaname = current_schema()"
    )
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql(q)}
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def test_one_head_and_ordered_ids() -> None:
    scripts = migrate._scripts()
    assert len(scripts.get_heads()) == 1, "two revisions share a parent: renumber the newer one"
    ids = [s.revision for s in scripts.walk_revisions()]
    assert ids[-1] == migrate.BASELINE
    assert sorted(ids) == sorted(ids, key=int), "revision ids are 0001, 0002, ... in order"


def test_new_database_is_stamped_at_head_and_equals_the_models(db_url: str) -> None:
    store = open_store(db_url)
    store.dispose()
    assert _revision(db_url) == migrate.head_revision()
    assert _schema_diff(db_url) == []
    assert "ix_records_borough_period" in _index_names(db_url)


def test_release_010_database_upgrades_in_place_keeping_rows(db_url: str) -> None:
    _load_release_010(db_url)
    assert _revision(db_url) is None  # 0.1.0 had no alembic_version
    assert _schema_diff(db_url) != [], "the recorded 0.1.0 schema should lack later revisions"
    store = open_store(db_url)
    try:
        assert store.upgraded_from == migrate.BASELINE
        recs = store.current_records(department="RJ122")
        assert len(recs) == 2
        assert set(recs["location_text"]) == {"brixton rd"}
        with store.engine.connect() as conn:  # revision 0006 counted the records already there
            stats = conn.execute(sa.select(schema.submission_stats)).mappings().all()
        assert [(r["department"], r["period"], r["records"]) for r in stats] == [
            ("RJ122", "2025-02", 2)
        ]
    finally:
        store.dispose()
    assert _revision(db_url) == migrate.head_revision()
    assert _schema_diff(db_url) == []
    assert "ix_records_borough_period" in _index_names(db_url)  # expression index, not compared
    # opening again is a no-op
    again = open_store(db_url)
    assert again.upgraded_from is None
    again.dispose()


def test_migrating_an_empty_database_equals_create_all(db_url: str) -> None:
    """The fast path for new databases (create_all + stamp) and the migration chain agree."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "head")
    engine.dispose()
    assert _schema_diff(db_url) == []


def test_old_schema_with_auto_upgrade_off_is_refused_and_left_alone(db_url: str) -> None:
    _load_release_010(db_url)
    with pytest.raises(StoreError, match="istvhub db upgrade"):
        open_store(db_url, auto_upgrade=False)
    assert _revision(db_url) is None  # nothing was changed


def test_cli_db_current_and_upgrade(tmp_path: Path) -> None:
    from istvhub.cli import app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    _load_release_010(url)
    runner = CliRunner()
    out = runner.invoke(app, ["db", "current", "--db", url])
    assert out.exit_code == 0, out.output
    assert "0001" in out.output and "pending" in out.output
    out = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert out.exit_code == 0, out.output
    assert f"from 0001 to {migrate.head_revision()}" in out.output
    out = runner.invoke(app, ["db", "current", "--db", url])
    assert "pending" not in out.output
