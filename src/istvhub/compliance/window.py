"""The default window of compliance, the map, hot-block layers and OGC items: the latest
*complete* months, never moved by one odd upload.

A 5-row file for 2030-01 once moved MOPAC's default compliance window and the CSP map to months
with no data (issue 14, point 3). Now the window ends at the latest month that is complete:
its deadline has passed, and at least half (the setting ``complete_month_quorum``) as many
departments sent it on time as in the best such month. One early, late or odd upload does not
move it. When no month was sent on time at all (history back-filled after the fact) the count
of departments that sent it at all decides.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd

from istvhub.compliance.deadlines import due_at
from istvhub.compliance.rules import Rules
from istvhub.core.periods import current_period, month_add


def quorum() -> float:
    """The share of the best month's departments that must send a month on time for it to be
    complete: the setting ``ISTVHUB_COMPLETE_MONTH_QUORUM`` (default 0.5)."""
    from istvhub.core.config import get_settings

    return float(get_settings().complete_month_quorum)


def latest_complete_period(
    submissions: pd.DataFrame,
    now: datetime | None = None,
    rules: Rules | None = None,
    quorum_share: float | None = None,
) -> str | None:
    """The latest complete month of ``submissions`` (every version: the first receipt counts),
    or None when nothing was submitted. ``quorum_share`` defaults to :func:`quorum`."""
    if submissions is None or not len(submissions):
        return None
    rules = rules or Rules()
    now = now or datetime.now(UTC)
    first = (
        submissions.assign(received_at=pd.to_datetime(submissions["received_at"], utc=True))
        .groupby(["department", "period"], as_index=False)["received_at"]
        .min()
    )
    due = {p: due_at(p, rules.due_day, rules.timezone) for p in first["period"].unique()}
    first["due"] = pd.to_datetime(first["period"].map(due), utc=True)
    done = first[first["due"] <= pd.Timestamp(now).tz_convert("UTC")]
    if done.empty:  # nothing is due yet: the latest month sent
        return str(first["period"].max())
    on_time = done[done["received_at"] <= done["due"]].groupby("period")["department"].nunique()
    counts = on_time if len(on_time) else done.groupby("period")["department"].nunique()
    share = quorum() if quorum_share is None else quorum_share
    need = max(1, math.ceil(share * int(counts.max())))
    return str(counts[counts >= need].index.max())


def default_window(
    submissions: pd.DataFrame,
    now: datetime | None = None,
    months: int = 12,
    rules: Rules | None = None,
) -> tuple[str, str]:
    """(start, end): ``months`` months up to the latest complete month (else last month)."""
    end = latest_complete_period(submissions, now, rules)
    if end is None:
        end = month_add(current_period(now), -1)
    return month_add(end, -(months - 1)), end
