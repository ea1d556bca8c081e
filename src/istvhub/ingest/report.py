"""What was understood, per ISTV item (issue 17.3): the column each item came from, how it was
recognised, and the value mappings applied with counts ("Fist/Feet -> body part: 18 rows").

Only code words are shown: a source value appears when it is short, is no free text (the
location and weapon descriptions never appear), and survives the PII scrubber unchanged.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from istvhub.ingest.adapters import FLAG_COL, Adapted
from istvhub.pii import scrub_series

#: ISTV item -> (canonical record column, the fields whose column feeds it)
ITEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "arrival date": ("arrival_at", ("arrival_datetime", "arrival_date")),
    "incident date": ("incident_date", ("incident_datetime", "incident_date")),
    "location text": ("location_text", ("location_text",)),
    "location type": ("location_type", ("location_type_code", "place")),
    "weapon": ("weapon", ("weapon_code", "mechanism")),
    "age band": ("age_band", ("age_band", "age")),
    "sex": ("sex", ("sex",)),
}
_CODED = {"location type", "weapon", "age band", "sex"}
MAX_SHOWN = 15
MAX_VALUE_CHARS = 40


def _words(v: str) -> str:
    return v.replace("_", " ")


def item_report(adapted: Adapted, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One entry per ISTV item: item, column (or None), how, score, rows known, mappings."""
    tally = ItemTally(adapted)
    tally.add(adapted, frame)
    return tally.report()


class ItemTally:
    """The item report summed over the slices of a file (a large upload is adapted in slices;
    each slice's records and raw rows are counted, then dropped)."""

    def __init__(self, head: Adapted) -> None:
        self.head = head
        self.rows = 0
        self.known: dict[str, int] = dict.fromkeys(ITEMS, 0)
        self.pairs: dict[str, pd.Series] = {}

    def _field(self, fields: tuple[str, ...]) -> tuple[str | None, str | None]:
        f = next((x for x in fields if x in self.head.columns), None)
        return f, (self.head.columns.get(f) if f else None)

    def add(self, part: Adapted, frame: pd.DataFrame) -> None:
        """Count one slice: ``part``'s records, whose raw rows are in ``frame``."""
        recs = part.records
        self.rows += len(recs)
        if not len(recs):
            return
        pos = (recs["source_row"].astype(int) - 1).to_numpy()  # frame labels of the rows
        for item, (canon, fields) in ITEMS.items():
            f, col = self._field(fields)
            vals = recs[canon]
            self.known[item] += int((vals.notna() & (vals.astype("string") != "unknown")).sum())
            if item in _CODED:
                n = _pair_counts(f, col, frame, pos, vals)
                old = self.pairs.get(item)
                self.pairs[item] = n if old is None else old.add(n, fill_value=0)

    def report(self) -> list[dict[str, Any]]:
        rec = self.head.recognition
        out: list[dict[str, Any]] = []
        for item, (_canon, fields) in ITEMS.items():
            f, col = self._field(fields)
            a = rec.assignments.get(f) if rec and f else None
            entry: dict[str, Any] = {
                "item": item,
                "column": col,
                "field": f,
                "how": a.how if a else None,
                "score": a.score if a else None,
                "rows": self.rows,
                "known": self.known[item],
                "mappings": [],
            }
            if col == FLAG_COL and rec is not None:
                entry["column"] = ", ".join(rec.weapon_flags)
                entry["how"] = "weapon flag columns"
            if item in self.pairs:
                entry["mappings"] = _shown(self.pairs[item])
            if item == "location type" and col is None and "location_text" in self.head.columns:
                entry["how"] = "derived from the location description"
            if (
                col is None
                and entry["how"] is None
                and rec is not None
                and any(
                    i in rec.absent
                    for i in ("location_type", "sex", "age", "weapon", "incident_date")
                )
            ):
                entry["how"] = "declared absent"
            out.append(entry)
        return out


def _pair_counts(
    f: str | None, col: str | None, frame: pd.DataFrame, pos: Any, vals: pd.Series
) -> pd.Series:
    """Rows per (source value, mapped value); the source is a label when there is no column."""
    to = vals.astype("string").fillna("").reset_index(drop=True)
    if col is None or col not in frame.columns or f == "age":
        src = "age in years" if f == "age" else ("flags" if col == FLAG_COL else "(no column)")
        raw = pd.Series(src, index=to.index, dtype="string")
    else:
        raw = frame[col].reindex(pos).astype("string").str.strip().fillna("")
        raw = raw.reset_index(drop=True)
    return pd.DataFrame({"from": raw, "to": to}).value_counts()


def _shown(counts: pd.Series) -> list[list[Any]]:
    """The most frequent mappings, never a free-text or identifying source value."""
    top = counts.sort_values(ascending=False, kind="stable").head(MAX_SHOWN)
    froms = pd.Series([k[0] for k in top.index], dtype="string")
    scrubbed, _n, _k = scrub_series(froms)
    out = []
    for (v, to), n, clean in zip(top.index, top.to_numpy(), scrubbed, strict=True):
        v = str(v)
        if not v:
            v = "(blank)"
        elif v not in _LABELS and (len(v) > MAX_VALUE_CHARS or clean != v):
            v = "(a longer text)"
        out.append([v, _words(str(to)), int(n)])
    return out


_LABELS = {"age in years", "flags", "(no column)"}


def item_lines(items: list[dict[str, Any]]) -> list[str]:
    """The report in plain words, one line per item."""
    lines = []
    for it in items:
        if it["column"]:
            how = f" ({it['how']}, score {it['score']:.2f})" if it.get("score") else ""
            head = f"{it['item']}: from column {it['column']!r}{how}"
        else:
            head = f"{it['item']}: no column" + (f" ({it['how']})" if it.get("how") else "")
        head += f"; known for {it['known']} of {it['rows']} rows"
        maps = "; ".join(f"{a} -> {b}: {n} rows" for a, b, n in it["mappings"])
        lines.append(head + (f"; {maps}" if maps else ""))
    return lines
