"""Retention of record-level data.

A record expires when its month (``records.period``) is before ``cutoff = this month - N months``
(N from ``data/retention.toml``, default 24): with N = 24 in November 2026 the months 2024-11 and
later are kept and 2024-10 and earlier go. ``apply`` deletes expired records of *every* version
(current and superseded) inside ONE write transaction, after copying each affected submission's
record statistics (the compliance :data:`~istvhub.compliance.core.STAT_COLUMNS`) into
``record_stats_archive``, so the compliance report for those months is unchanged. Submissions,
quarantine reasons (which never hold values), geocode corrections, audit entries and published
aggregate files are kept. One audit entry records what went (counts per month, never content).
A dry run computes the same plan and writes nothing.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from istvhub._errors import IstvhubError, StoreError
from istvhub.core.config import DATA_DIR
from istvhub.store.schema import record_stats_archive, records

CONFIG_FILE = DATA_DIR / "retention.toml"
DEFAULT_MONTHS = 24


class RetentionError(IstvhubError):
    """A retention request is invalid (names the option or file, never data)."""


def configured_months(path: Path | None = None) -> int:
    """The retention period in months from the config TOML (default 24)."""
    p = Path(path) if path else CONFIG_FILE
    if not p.is_file():
        return DEFAULT_MONTHS
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError:
        raise RetentionError(f"file {p.name!r}: not valid TOML") from None
    months = data.get("months", DEFAULT_MONTHS)
    if not isinstance(months, int) or isinstance(months, bool):
        raise RetentionError(f"file {p.name!r}, field 'months': expected a whole number")
    return check_months(months, field_name="months")


def check_months(months: int, *, field_name: str = "--months") -> int:
    if months < 1 or months > 1200:
        raise RetentionError(f"option {field_name}: must be between 1 and 1200")
    return months


def cutoff_period(months: int, today: datetime | None = None) -> str:
    """First month kept: ``today``'s month minus ``months``."""
    from istvhub.compliance.core import month_add

    now = today or datetime.now(UTC)
    return month_add(f"{now.year:04d}-{now.month:02d}", -months)


@dataclass
class Plan:
    """What retention deletes (or deleted): counts only."""

    months: int
    cutoff: str  # first month kept
    dry_run: bool
    records: int = 0
    submissions: int = 0
    by_period: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        if not self.records:
            return f"retention {self.months} months: nothing before {self.cutoff}; no records " + (
                "would go" if self.dry_run else "deleted"
            )
        first, last = min(self.by_period), max(self.by_period)
        return (
            f"retention {self.months} months: {verb} {self.records} records of "
            f"{self.submissions} submissions, months {first} to {last} "
            f"(keeping {self.cutoff} and later)"
        )


def _plan(conn: sa.Connection, months: int, cutoff: str, dry_run: bool) -> Plan:
    r = records.c
    rows = conn.execute(
        sa.select(
            r.period,
            sa.func.count().label("n"),
            sa.func.count(sa.distinct(r.submission_id)).label("subs"),
        )
        .where(r.period < cutoff)
        .group_by(r.period)
        .order_by(r.period)
    ).all()
    plan = Plan(months=months, cutoff=cutoff, dry_run=dry_run)
    for period, n, subs in rows:
        plan.by_period[str(period)] = int(n)
        plan.records += int(n)
        plan.submissions += int(subs)
    return plan


def plan_retention(store: Any, months: int | None = None, *, today: datetime | None = None) -> Plan:
    """What ``apply_retention`` would delete now (reads only)."""
    months = check_months(months) if months is not None else configured_months()
    cutoff = cutoff_period(months, today)
    try:
        with store.engine.connect() as conn:
            return _plan(conn, months, cutoff, True)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read the store ({type(exc).__name__})") from None


def apply_retention(
    store: Any,
    months: int | None = None,
    *,
    dry_run: bool = False,
    actor: str = "cli",
    today: datetime | None = None,
) -> Plan:
    """Delete expired records in one transaction (see the module docstring); ``dry_run`` only
    plans. Returns the plan of what was (or would be) deleted."""
    if dry_run:
        return plan_retention(store, months, today=today)
    from istvhub.compliance.read import stat_columns

    months = check_months(months) if months is not None else configured_months()
    cutoff = cutoff_period(months, today)
    r = records.c
    try:
        with store._write_txn() as conn:
            plan = _plan(conn, months, cutoff, False)
            if plan.records:
                now = datetime.now(UTC)
                stats = (
                    conn.execute(
                        sa.select(r.submission_id, r.department, r.period, *stat_columns())
                        .where(r.period < cutoff)
                        .group_by(r.submission_id, r.department, r.period)
                    )
                    .mappings()
                    .all()
                )
                conn.execute(
                    record_stats_archive.insert(), [dict(s) | {"archived_at": now} for s in stats]
                )
                conn.execute(records.delete().where(r.period < cutoff))
            store._audit(
                conn,
                actor,
                "retention.apply",
                json.dumps(
                    {
                        "months": months,
                        "cutoff": cutoff,
                        "records": plan.records,
                        "submissions": plan.submissions,
                        "by_period": plan.by_period,
                    },
                    sort_keys=True,
                ),
            )
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"retention failed and changed nothing ({type(exc).__name__})") from None
    return plan
