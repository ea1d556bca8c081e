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
    rec = adapted.recognition
    recs = adapted.records
    out: list[dict[str, Any]] = []
    pos = (recs["source_row"].astype(int) - 1).to_numpy()  # frame labels of the records' rows
    for item, (canon, fields) in ITEMS.items():
        f = next((x for x in fields if x in adapted.columns), None)
        col = adapted.columns.get(f) if f else None
        a = rec.assignments.get(f) if rec and f else None
        vals = recs[canon]
        known = int((vals.notna() & (vals.astype("string") != "unknown")).sum())
        entry: dict[str, Any] = {
            "item": item,
            "column": col,
            "field": f,
            "how": a.how if a else None,
            "score": a.score if a else None,
            "rows": len(recs),
            "known": known,
            "mappings": [],
        }
        if col == FLAG_COL and rec is not None:
            entry["column"] = ", ".join(rec.weapon_flags)
            entry["how"] = "weapon flag columns"
        if item in _CODED and len(recs):
            entry["mappings"] = _mappings(item, f, col, frame, pos, vals)
        if item == "location type" and col is None and "location_text" in adapted.columns:
            entry["how"] = "derived from the location description"
        if (
            col is None
            and entry["how"] is None
            and rec is not None
            and any(
                i in rec.absent for i in ("location_type", "sex", "age", "weapon", "incident_date")
            )
        ):
            entry["how"] = "declared absent"
        out.append(entry)
    return out


def _mappings(
    item: str, f: str | None, col: str | None, frame: pd.DataFrame, pos: Any, vals: pd.Series
) -> list[list[Any]]:
    if col is None or col not in frame.columns or f == "age":
        counts = vals.astype("string").value_counts()
        src = "age in years" if f == "age" else ("flags" if col == FLAG_COL else "(no column)")
        return [[src, _words(str(k)), int(n)] for k, n in counts.items()][:MAX_SHOWN]
    raw = frame[col].reindex(pos).astype("string").str.strip().fillna("").reset_index(drop=True)
    pairs = pd.DataFrame({"from": raw, "to": vals.astype("string").reset_index(drop=True)})
    counts = pairs.value_counts().reset_index(name="n").sort_values("n", ascending=False)
    shown = counts["from"].astype("string")
    scrubbed, _n, _k = scrub_series(shown)
    out = []
    for (_i, r), clean in zip(counts.iterrows(), scrubbed, strict=True):
        v = str(r["from"])
        if not v:
            v = "(blank)"
        elif len(v) > MAX_VALUE_CHARS or clean != r["from"]:
            v = "(a longer text)"
        out.append([v, _words(str(r["to"])), int(r["n"])])
    return out[:MAX_SHOWN]


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
