"""The compliance report from a store: the functions the CLI, the API and the demo call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from istvhub.compliance.read import read_inputs
from istvhub.compliance.report import Report, compliance_report
from istvhub.compliance.rules import load_rules
from istvhub.store.repos import Db, read_engine


def report_from(
    db: Db,
    *,
    start: str | None = None,
    end: str | None = None,
    departments: list[str] | None = None,
    rules_path: Path | None = None,
    now: datetime | None = None,
) -> Report:
    """The report over ``db`` (an open store, e.g. the API's, whose pool is reused)."""
    inputs = read_inputs(db)
    return compliance_report(
        inputs.departments,
        inputs.submissions,
        inputs.record_stats,
        start=start,
        end=end,
        only=departments or None,
        rules=load_rules(rules_path),
        now=now,
    )


def build_report(
    db_url: str,
    *,
    start: str | None = None,
    end: str | None = None,
    departments: list[str] | None = None,
    rules_path: Path | None = None,
    now: datetime | None = None,
) -> Report:
    """Read the store at ``db_url`` (creating nothing) and compute the report."""
    engine = read_engine(db_url)
    try:
        return report_from(
            engine, start=start, end=end, departments=departments, rules_path=rules_path, now=now
        )
    finally:
        engine.dispose()
