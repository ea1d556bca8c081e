"""The store's filtered reads can use an index on PostgreSQL (issue 16): with sequential scans
priced out, the planner must find an index for every filter the layers, feedback, equality and
geocode --stored apply, so no question about one month or borough reads the whole store.

The statements checked are the ones the code really sends (captured from the engine), not
hand-written copies.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from istvhub.store import open_store

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("db_url", ["postgres"], indirect=True),  # PostgreSQL only
]


def _captured(store, call) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, params, context, executemany):  # noqa: ARG001
        if statement.lstrip().lower().startswith("select") and "records" in statement:
            seen.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", grab)
    assert seen, "the call sent no SELECT on records"
    return seen


def _plans(store, statements) -> list[str]:
    out = []
    with store.engine.connect() as conn:
        conn.exec_driver_sql("set enable_seqscan = off")
        for sql, params in statements:
            rows = conn.exec_driver_sql("explain " + sql, params).all()
            out.append("\n".join(r[0] for r in rows))
    return out


@pytest.fixture
def pg_store(db_url):
    store = open_store(db_url)
    yield store
    store.dispose()


def _assert_indexed(plans: list[str]) -> None:
    for plan in plans:
        assert "Seq Scan on records" not in plan, plan


def test_layer_period_range_read_uses_an_index(pg_store):
    stmts = _captured(
        pg_store, lambda: pg_store.current_records(period_from="2025-01", period_to="2025-03")
    )
    _assert_indexed(_plans(pg_store, stmts))


def test_department_month_read_uses_an_index(pg_store):
    stmts = _captured(
        pg_store,
        lambda: pg_store.current_records("RJ122", period_from="2025-03", period_to="2025-03"),
    )
    _assert_indexed(_plans(pg_store, stmts))


@pytest.mark.parametrize("boroughs", [(), ("lambeth",)])
def test_equality_counts_use_an_index(pg_store, boroughs):
    from istvhub.equality.read import read_counts

    stmts = _captured(
        pg_store,
        lambda: read_counts(
            pg_store.engine, ("age_band", "sex"), start="2025-01", end="2025-12", boroughs=boroughs
        ),
    )
    plans = _plans(pg_store, stmts)
    _assert_indexed(plans)
    if boroughs:
        assert any("ix_records_borough_period" in p for p in plans), plans


def test_layer_cache_fingerprint_reads_no_whole_table(pg_store):
    """Every layer download fingerprints the store (``data_state``): max(geocoded_at) must be an
    index probe, not a scan of every record (revision 0005)."""
    from istvhub.store.repos.records import data_state

    stmts = _captured(pg_store, lambda: data_state(pg_store))
    plans = _plans(pg_store, stmts)
    _assert_indexed(plans)
    assert any("ix_records_geocoded_at" in p for p in plans), plans


def test_layer_read_of_one_month_uses_an_index(pg_store):
    """A borough-month layer reads the London month (the borough filter picks units, not
    records): the column-limited read must still go through an index."""
    from istvhub.hotblocks.service import LAYER_READ_COLUMNS

    stmts = _captured(
        pg_store,
        lambda: pg_store.current_records(
            period_from="2025-03", period_to="2025-03", columns=LAYER_READ_COLUMNS
        ),
    )
    _assert_indexed(_plans(pg_store, stmts))
