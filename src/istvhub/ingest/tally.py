"""What one upload adds up to across its slices: row issues, records accepted, items carried,
and the checks that need those totals (a replacement that drops most rows or loses items).

Why: a large upload is adapted and written slice by slice (issue 14 point 7), so the totals
the report and the replacement checks need are summed here as the slices go by; a small file
(one slice, the usual month) is checked before its transaction opens, a large one inside it,
before the commit, so a refusal still stores nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from istvhub._errors import ConfirmationRequired
from istvhub.ingest import identity
from istvhub.ingest.adapters import Adapted, Issue, quarantine_frame
from istvhub.ingest.recognise import ITEM_WORDS
from istvhub.ingest.report import ItemTally
from istvhub.store import Store

#: an item is "lost" when the previous version had it on this share of records and this one on
#: less than a tenth of that
_HAD = 0.5

#: item -> how a record carries it
_CARRIED = {
    "location_text": lambda r: r["location_text"].notna(),
    "location_type": lambda r: r["location_type"] != "unknown",
    "weapon": lambda r: r["weapon"] != "unknown",
    "age": lambda r: r["age_band"] != "unknown",
    "sex": lambda r: r["sex"] != "unknown",
    "incident_date": lambda r: r["incident_date"].notna(),
}


def lost_items(
    store: Store, prev: Any, department: str, shares: dict[str, float], rows: int
) -> list[str]:
    """ISTV items the previous version (same month, or the department's previous month) carried
    and this one does not (issue 17.4); ``shares`` is the share of this upload's records
    carrying each item."""
    if prev is None or not rows:
        return []
    from istvhub.store.mappings import item_coverage

    subs = store.submissions(department, current_only=True)
    hit = subs[(subs["period"] == prev.period) & (subs["version"] == prev.version)]
    if hit.empty:
        return []
    before = item_coverage(store, int(hit["submission_id"].iloc[0]))
    return [
        ITEM_WORDS.get(k, k).replace("age or age band", "age band")
        for k, had in before.items()
        if had >= _HAD and float(shares[k]) < 0.1 * had
    ]


class Tally:
    """Sums the slices of one upload; :meth:`check` refuses a doubtful replacement."""

    def __init__(
        self,
        head: Adapted,
        frame: pd.DataFrame,
        store: Store,
        prev: Any,
        adapter: str,
        confirmed: bool,
        file: str,
    ) -> None:
        self.head, self.frame, self.store, self.prev = head, frame, store, prev
        self.adapter, self.confirmed, self.file = adapter, confirmed, file
        self.items = ItemTally(head)
        self.issues: list[Issue] = list(head.issues)
        self.accepted = 0
        self.pii_scrubbed = 0
        self.carried = dict.fromkeys(_CARRIED, 0)
        self.replaces: str | None = None

    def add(self, part: Adapted) -> pd.DataFrame:
        """Count one slice; returns its records (to geocode and write)."""
        recs = part.records
        self.items.add(part, part.raw if part.raw is not None else self.frame)
        self.issues.extend(part.issues)
        self.accepted += len(recs)
        self.pii_scrubbed += part.pii_scrubbed
        for k, f in _CARRIED.items():
            self.carried[k] += int(f(recs).sum()) if len(recs) else 0
        return recs

    def check(self) -> None:
        """After the last slice: sort the issues; refuse (``ConfirmationRequired``) a version
        that drops most rows, changes layout or loses items, unless confirmed."""
        self.issues.sort(key=lambda i: (i.row, i.field))
        dept, prev = self.head.department, self.prev
        why = identity.replacement_reason(prev, self.accepted, self.adapter)
        if why and not self.confirmed:
            raise ConfirmationRequired(
                f"this upload would replace {dept}'s data and {why}: check it is the "
                "right file for the right department, then upload again with --confirm-replace "
                "(API: confirm_replace=true)",
                file=self.file,
                field="confirm_replace",
            )
        n = max(self.accepted, 1)
        shares = {k: v / n for k, v in self.carried.items()}
        lost = lost_items(self.store, prev, dept, shares, self.accepted)
        if lost:
            what = ", ".join(lost)
            self.issues.insert(
                0,
                Issue(
                    0,
                    "items",
                    f"this version loses items the previous one had ({what}): check the file",
                    quarantined=False,
                ),
            )
            if prev is not None and prev.same_month and not self.confirmed:
                raise ConfirmationRequired(
                    f"this upload would replace {dept} {prev.period} version "
                    f"{prev.version} and loses items it had ({what}): check the file, then "
                    "upload again with --confirm-replace (API: confirm_replace=true)",
                    file=self.file,
                    field="confirm_replace",
                )
        if prev is not None and prev.same_month:
            self.replaces = (
                f"{dept} {prev.period} version {prev.version} "
                f"({prev.rows} records, layout {prev.adapter})"
            )

    def quarantine(self) -> pd.DataFrame:
        return quarantine_frame(self.issues)

    def fill(self, result: Any) -> None:
        """Put the totals on the ingest result."""
        result.rows_accepted = self.accepted
        result.rows_quarantined = sum(1 for i in self.issues if i.quarantined)
        result.pii_scrubbed = self.pii_scrubbed
        result.issues = self.issues
        result.items = self.items.report()
