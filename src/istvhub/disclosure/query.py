"""Query rules: how fine a request for published counts may be (docs/DISCLOSURE.md).

The cell key stops differences from giving counts back; these rules stop the slicing that makes
differences worth taking: an hours or weekday filter over one month and one H3 res-10 cell
leaves one or two records per answer. The limits are data (``[query]`` in
``disclosure_rules.toml``); a refused query names the option, never data.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from istvhub._errors import DisclosureError
from istvhub.core.periods import months_between
from istvhub.disclosure.rules import RULES_FILE, DisclosureRule


class QueryTooFine(DisclosureError):
    """The query is finer than the disclosure rules allow."""


@dataclass(frozen=True)
class QueryLimits:
    time_filter_min_months: int = 3
    time_filter_max_h3_res: int = 9
    min_hours_window: int = 3


def load_limits(path: Path | None = None) -> QueryLimits:
    """The ``[query]`` table of the rules file (defaults where a key is absent)."""
    with (Path(path) if path else RULES_FILE).open("rb") as fh:
        q = tomllib.load(fh).get("query", {})
    return QueryLimits(**{k: int(v) for k, v in q.items() if k in QueryLimits.__annotations__})


def hours_width(hours: tuple[int, int]) -> int:
    """Width of an ``(a, b)`` window in hours, wrapping midnight (22-04 is 6)."""
    a, b = hours
    return (b - a) % 24 or 24


def check_query(
    rule: DisclosureRule,
    *,
    period_from: str,
    period_to: str,
    hours: tuple[int, int] | None = None,
    days: tuple[int, ...] = (),
    h3_res: int | None = None,
    limits: QueryLimits | None = None,
) -> None:
    """Raise :class:`QueryTooFine` if the query may not be answered with published counts."""
    if rule.raw or not (hours or days):
        return
    lim = limits or load_limits()
    which = "--hours" if hours else "--days"
    months = months_between(period_from, period_to)
    if months < lim.time_filter_min_months:
        raise QueryTooFine(
            f"option {which}: time-of-day and weekday filters need a period of at least "
            f"{lim.time_filter_min_months} months (--from/--to)"
        )
    if h3_res is not None and h3_res > lim.time_filter_max_h3_res:
        raise QueryTooFine(
            f"option {which}: time-of-day and weekday filters need --h3-res "
            f"{lim.time_filter_max_h3_res} or coarser"
        )
    if hours and hours_width(hours) < lim.min_hours_window:
        raise QueryTooFine(
            f"option --hours: the window must be at least {lim.min_hours_window} hours wide"
        )
