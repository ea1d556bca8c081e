"""Months (``YYYY-MM`` periods): the one pattern and the month arithmetic every stage shares.

An ISTV extract covers one calendar month, so the period string is the unit of versioning,
compliance, retention and every query window; writing its regex once keeps the CLI, the API's
query validation and the readers agreeing on what a month is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from istvhub._errors import IstvhubError

#: ``YYYY-MM`` with a real month, as a pattern string (FastAPI ``Query(pattern=...)``, pydantic
#: ``Field(pattern=...)``, JSON schema) ...
PERIOD_PATTERN = r"^(\d{4})-(0[1-9]|1[0-2])$"
#: ... and compiled (groups: year, month)
PERIOD_RE = re.compile(PERIOD_PATTERN)


def is_period(value: object) -> bool:
    """Whether ``value`` is a ``YYYY-MM`` string with a real month."""
    return isinstance(value, str) and PERIOD_RE.match(value) is not None


def check_period(
    period: object, *, field_name: str = "period", error: type[IstvhubError] = IstvhubError
) -> str:
    """Return ``period`` if it is ``YYYY-MM``; raise ``error`` naming the field otherwise."""
    if not is_period(period):
        raise error(f"field {field_name!r}: expected YYYY-MM")
    assert isinstance(period, str)
    return period


def month_index(period: str) -> int:
    """``YYYY-MM`` -> months since year 0 (for whole-month differences)."""
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def month_add(period: str, n: int) -> str:
    """``month_add('2025-12', 1) == '2026-01'``."""
    k = month_index(period) + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def month_range(start: str, end: str) -> list[str]:
    """Inclusive list of months from ``start`` to ``end`` (empty if end < start)."""
    return [month_add(start, k) for k in range(month_index(end) - month_index(start) + 1)]


def months_between(period_from: str, period_to: str) -> int:
    """Number of months from ``period_from`` to ``period_to`` inclusive."""
    return month_index(period_to) - month_index(period_from) + 1


def period_of(when: datetime) -> str:
    """The ``YYYY-MM`` month ``when`` falls in."""
    return f"{when.year:04d}-{when.month:02d}"


def current_period(now: datetime | None = None) -> str:
    """This month (UTC) as ``YYYY-MM``."""
    return period_of(now or datetime.now(UTC))


#: a month written inside a file name: ``2025-03``, ``2025_03``, ``202503`` (not inside a longer
#: number); a search, not a match, so it is a pattern of its own
_PERIOD_IN_NAME = re.compile(r"(?<!\d)(20\d\d)[-_.]?(0[1-9]|1[0-2])(?!\d)")


def period_in_name(name: str) -> str | None:
    """The ``YYYY-MM`` a file name (stem) carries, e.g. ``RJ122_2025-03`` or ``rj122-202503``."""
    m = _PERIOD_IN_NAME.search(name)
    return f"{m.group(1)}-{m.group(2)}" if m else None
