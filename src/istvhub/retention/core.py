"""Retention of record-level data.

A record expires when its month (``records.period``) is before ``cutoff = this month - N months``
(N from ``data/retention.toml``, default 24): with N = 24 in November 2026 the months 2024-11 and
later are kept and 2024-10 and earlier go. ``apply`` deletes expired records of *every* version
(current and superseded) inside ONE write transaction, after copying each affected submission's
record statistics (the compliance :data:`~istvhub.compliance.columns.STAT_COLUMNS`) into
``record_stats_archive``, so the compliance report for those months is unchanged. Submissions,
quarantine reasons (which never hold values), geocode corrections, audit entries and published
aggregate files are kept. One audit entry records what went (counts per month, never content).
A dry run computes the same plan and writes nothing.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from istvhub._errors import IstvhubError
from istvhub.core.config import DATA_DIR
from istvhub.core.periods import current_period, month_add
from istvhub.store import Store
from istvhub.store.repos import retention as repo

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
    return month_add(current_period(today), -months)


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


def _plan(expired: repo.Expired, months: int, cutoff: str, dry_run: bool) -> Plan:
    plan = Plan(months=months, cutoff=cutoff, dry_run=dry_run)
    for period, n, subs in expired:
        plan.by_period[period] = n
        plan.records += n
        plan.submissions += subs
    return plan


def plan_retention(
    store: Store, months: int | None = None, *, today: datetime | None = None
) -> Plan:
    """What ``apply_retention`` would delete now (reads only)."""
    months = check_months(months) if months is not None else configured_months()
    cutoff = cutoff_period(months, today)
    return _plan(repo.expired(store, cutoff), months, cutoff, True)


def apply_retention(
    store: Store,
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
    months = check_months(months) if months is not None else configured_months()
    cutoff = cutoff_period(months, today)

    def detail(expired: repo.Expired) -> str:
        plan = _plan(expired, months, cutoff, False)
        return json.dumps(
            {
                "months": months,
                "cutoff": cutoff,
                "records": plan.records,
                "submissions": plan.submissions,
                "by_period": plan.by_period,
            },
            sort_keys=True,
        )

    return _plan(
        repo.delete_expired(store, cutoff, actor=actor, detail=detail), months, cutoff, False
    )
