"""What adapting a file yields (records, row and file issues) and the shared state of its
slices: the types the adapter engine (:mod:`istvhub.ingest.adapters`), the per-item value maps
(:mod:`istvhub.ingest.fields`), the tally and the report all speak.

Why a module of its own: the engine, the value maps and the report each need these types, and
none of them should have to import the others to get them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from istvhub.ingest.fileplan import FilePlan
from istvhub.ingest.layouts import Layout
from istvhub.ingest.recognise import Recognition

#: the column built from one Y/N column per weapon
FLAG_COL = "weapon (from the weapon flag columns)"
MAX_TEXT = 255


@dataclass
class Issue:
    row: int
    field: str
    reason: str
    quarantined: bool = True


@dataclass
class Adapted:
    """The outcome of adapting one file (before storage)."""

    records: pd.DataFrame  # RECORD_COLUMNS + source_row
    issues: list[Issue]
    department: str
    period: str
    rows_total: int
    rows_skipped: int
    pii_scrubbed: int
    columns: dict[str, str] = field(default_factory=dict)
    recognition: Recognition | None = None
    #: a slice's raw rows (every column), for the item report of a two-pass read
    raw: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def quarantine(self) -> pd.DataFrame:
        return quarantine_frame(self.issues)


class RowFlags:
    """Row issues of one slice: one quarantine reason per row (the first problem found);
    warnings, as many as apply."""

    def __init__(self, df: pd.DataFrame, rows: pd.Series) -> None:
        self.index = df.index
        self.rows = rows
        self.bad = pd.Series(False, index=df.index)
        self.issues: list[Issue] = []

    def __call__(
        self, mask: pd.Series, fieldname: str, reason: str, quarantine: bool = True
    ) -> None:
        mask = mask.reindex(self.index, fill_value=False).astype(bool)
        if quarantine:
            mask = mask & ~self.bad
        if not mask.any():
            return
        self.issues.extend(Issue(int(r), fieldname, reason, quarantine) for r in self.rows[mask])
        if quarantine:
            self.bad = self.bad | mask


@dataclass
class SliceContext:
    """What every slice of one file shares."""

    layout: Layout
    rec: Recognition
    cols: dict[str, str]
    plan: FilePlan
    encoding: str | None
    make_id: Any
    two_pass: bool = False  # slices come from pass 2 of a two-pass read (keep their raw rows)


def quarantine_frame(issues: list[Issue]) -> pd.DataFrame:
    """The quarantined rows of ``issues`` (row, field, reason), as the store keeps them."""
    q = [i for i in issues if i.quarantined]
    return pd.DataFrame(
        {
            "source_row": [i.row for i in q],
            "field": [i.field for i in q],
            "reason": [i.reason for i in q],
        }
    )


def combine(head: Adapted, parts: Iterable[Adapted]) -> Adapted:
    """One :class:`Adapted` for the whole file from its head and slices (small files, tests)."""
    frames, issues, scrubbed = [], list(head.issues), 0
    for p in parts:
        frames.append(p.records)
        issues.extend(p.issues)
        scrubbed += p.pii_scrubbed
    records = (
        pd.concat(frames, ignore_index=True)
        if len(frames) > 1
        else (frames[0] if frames else head.records)
    )
    issues.sort(key=lambda i: (i.row, i.field))
    return Adapted(
        records,
        issues,
        head.department,
        head.period,
        head.rows_total,
        head.rows_skipped,
        scrubbed,
        head.columns,
        head.recognition,
    )


#: ISTV items and the layout fields any one of which carries them
ISTV_ITEMS = {
    "location_text": ("location_text",),
    "location_type": ("location_type_code", "place", "location_text"),  # text: derived
    "weapon": ("weapon_code", "weapon_text", "mechanism"),
    "incident_date": ("incident_date", "incident_datetime"),
}


def missing_item_warnings(columns: dict[str, str], rec: Recognition | None = None) -> list[Issue]:
    """File-level warnings (row 0, not quarantined) for ISTV items no column was recognised
    for: the records are still stored, but an unrecognised header must not silently empty a
    field (e.g. a location column under a name the synonyms lack)."""
    return [
        Issue(
            0,
            item,
            "no column recognised for this ISTV item; every record is stored "
            "without it (check the header, or onboard the layout with a mapping TOML)",
            quarantined=False,
        )
        for item, fields in ISTV_ITEMS.items()
        if not any(f in columns for f in fields) and not (rec and item in rec.absent)
    ]
