"""Adapting many department-months of one layout in one pass (issue 16): the files' raw frames
concatenated, every value map, the PII guard and the row checks run once over all their rows,
then records and row issues split back per file with each file's own row numbers.

Why: a small monthly file (~125 rows) cost ~400 ms to adapt, nearly all of it the fixed cost of
~800 pandas calls per file, not the rows. The same calls over 100 files cost about what they cost
over one. The per-item value maps (:mod:`istvhub.ingest.fields`) are reused as they are; this
module only builds a plan spanning the files (each row carrying its own file's department and
period) and mirrors :func:`istvhub.ingest.adapters.adapt_slice` over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from istvhub.ingest.adapted import (
    FLAG_COL,
    Adapted,
    Issue,
    SliceContext,
    missing_item_warnings,
)
from istvhub.ingest.adapters import adapt_rows
from istvhub.ingest.codevalues import straddling_warning
from istvhub.ingest.fields import _blank_to_na
from istvhub.ingest.fileplan import FilePlan
from istvhub.ingest.layouts import Layout
from istvhub.ingest.readers import RawTable
from istvhub.ingest.recognise import Recognition
from istvhub.ingest.report import _CODED, ITEMS, ItemTally
from istvhub.pii import scrub_detail
from istvhub.records import RECORD_COLUMNS

#: the reason prefix of the warning the PII guard gives each scrubbed cell (see ``texts_of``)
_SCRUBBED = "identifier removed from free text"


@dataclass
class Member:
    """One file of a group: its raw cells and its own whole-file plan."""

    frame: pd.DataFrame
    plan: FilePlan


def _shifted(s: pd.Series, offset: int) -> pd.Series:
    return s.set_axis(s.index + offset)


def _group_plan(members: list[Member], offsets: np.ndarray) -> FilePlan:
    """One plan over the concatenated rows: department and period are per-row Series."""
    sizes = [len(m.frame) for m in members]
    index = pd.RangeIndex(int(sum(sizes)))
    first = members[0].plan
    cat = lambda name: pd.concat(  # noqa: E731
        [_shifted(getattr(m.plan, name), int(o)) for m, o in zip(members, offsets, strict=True)]
    )
    dept = pd.Series(np.repeat([m.plan.department for m in members], sizes), index=index)
    period = pd.Series(np.repeat([m.plan.period for m in members], sizes), index=index)
    return FilePlan(
        department=cast(Any, dept),
        period=cast(Any, period),
        keep=cat("keep"),
        duplicate=cat("duplicate"),
        arrival=cat("arrival"),
        arrival_invalid=cat("arrival_invalid"),
        place_is_text=first.place_is_text,
        skipped=0,
        arr_col=first.arr_col,
        per_col=first.per_col,
    )


def _removals(issues: list[Issue], field: str, texts: pd.Series) -> dict[int, int]:
    """Row -> identifiers removed from its ``field`` text (the count ``scrub_series`` sums)."""
    done: dict[str, int] = {}
    out: dict[int, int] = {}
    for i in issues:
        if i.field == field and i.reason.startswith(_SCRUBBED):
            v = str(texts.loc[i.row - 1])
            if v not in done:
                done[v] = len(scrub_detail(v)[1])
            out[i.row] = out.get(i.row, 0) + done[v]
    return out


def adapt_group(
    members: list[Member],
    layout: Layout,
    rec: Recognition,
    cols: dict[str, str],
    encoding: str | None,
    make_id: Any,
) -> tuple[list[Adapted], list[ItemCounts]]:
    """Adapt the files of one group at once; one :class:`Adapted` per file (in order), as
    ``adapt_slice`` gives for that file alone (records, row issues, PII removals), and each
    file's item report counts."""
    sizes = np.array([len(m.frame) for m in members], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    raw = pd.concat([m.frame for m in members], ignore_index=True)
    plan = _group_plan(members, offsets)
    keep = plan.keep.reindex(raw.index, fill_value=False)
    df = raw if bool(keep.all()) else raw[keep]
    dept = cast(pd.Series, plan.department).loc[df.index]
    period = cast(pd.Series, plan.period).loc[df.index]
    plan.department, plan.period = cast(Any, dept), cast(Any, period)
    ctx = SliceContext(layout, rec, cols, plan, encoding, make_id)
    out, flag, loc_text0, weapon_text0, _ = adapt_rows(df, ctx)
    out = out[~flag.bad][[*RECORD_COLUMNS, "source_row"]]
    removed = _removals(
        flag.issues, cols.get("location_text", "location_text"), _blank_to_na(loc_text0)
    )
    wpn = _removals(flag.issues, cols.get("weapon_text", "weapon_text"), _blank_to_na(weapon_text0))
    for r, n in wpn.items():
        removed[r] = removed.get(r, 0) + n
    parts = _split(members, offsets, out, flag.issues, removed, cols, rec)
    return parts, item_counts(len(members), offsets, out, raw, cols)


def _split(
    members: list[Member],
    offsets: np.ndarray,
    out: pd.DataFrame,
    issues: list[Issue],
    removed: dict[int, int],
    cols: dict[str, str],
    rec: Recognition,
) -> list[Adapted]:
    """The group's records and row issues back per file, rows renumbered from each file's 1."""
    which = np.searchsorted(offsets, out.index.to_numpy(), side="right") - 1
    per_issues: list[list[Issue]] = [[] for _ in members]
    scrubbed = [0] * len(members)
    for i in issues:
        f = int(np.searchsorted(offsets, i.row - 1, side="right") - 1)
        per_issues[f].append(Issue(i.row - int(offsets[f]), i.field, i.reason, i.quarantined))
    for r, n in removed.items():
        scrubbed[int(np.searchsorted(offsets, r - 1, side="right") - 1)] += n
    result = []
    for f, m in enumerate(members):
        recs = out[which == f].reset_index(drop=True)
        recs["source_row"] = recs["source_row"] - int(offsets[f])
        result.append(
            Adapted(
                recs,
                per_issues[f],
                m.plan.department,
                m.plan.period,
                len(m.frame),
                0,
                scrubbed[f],
                cols,
                rec,
            )
        )
    return result


@dataclass
class ItemCounts:
    """One file's item report counts (what ``ItemTally.add`` sums for it alone)."""

    rows: int
    known: dict[str, int]
    pairs: dict[str, pd.Series]


def item_counts(
    n_files: int, offsets: np.ndarray, out: pd.DataFrame, raw: pd.DataFrame, cols: dict[str, str]
) -> list[ItemCounts]:
    """Every file's item report counts from one pass over the group's records.

    Each file's (source value, mapped value) counts come out in the order ``value_counts`` gives
    on that file alone: pairs in order of first appearance (the files' rows are contiguous),
    then a stable sort by count. The source values are read as ``report._pair_counts`` reads
    them."""
    which = np.searchsorted(offsets, out.index.to_numpy(), side="right") - 1
    rows = np.bincount(which, minlength=n_files)
    counts = [ItemCounts(int(rows[f]), dict.fromkeys(ITEMS, 0), {}) for f in range(n_files)]
    pos = (out["source_row"].astype(int) - 1).to_numpy()
    for item, (canon, fields) in ITEMS.items():
        f = next((x for x in fields if x in cols), None)
        col = cols.get(f) if f else None
        vals = out[canon]
        known = (vals.notna() & (vals.astype("string") != "unknown")).to_numpy(dtype=bool)
        for i, k in enumerate(np.bincount(which, weights=known, minlength=n_files)):
            counts[i].known[item] = int(k)
        if item not in _CODED:
            continue
        to = vals.astype("string").fillna("").reset_index(drop=True)
        if col is None or col not in raw.columns or f == "age":
            src = "age in years" if f == "age" else ("flags" if col == FLAG_COL else "(no column)")
            frm = pd.Series(src, index=to.index, dtype="string")
        else:
            frm = raw[col].reindex(pos).astype("string").str.strip().fillna("")
            frm = frm.reset_index(drop=True)
        size = (
            pd.DataFrame({"file": which, "from": frm, "to": to})
            .groupby(["file", "from", "to"], sort=False, observed=False)
            .size()
        )
        for i in np.unique(which):
            mine = size.xs(i, level="file")
            mine.name = "count"
            counts[int(i)].pairs[item] = mine.sort_values(ascending=False, kind="stable")
    return counts


class Counted(ItemTally):
    """A file's item report with the counts the group pass made (``add`` counts nothing)."""

    def __init__(self, head: Adapted, counts: ItemCounts) -> None:
        super().__init__(head)
        self.rows, self.known, self.pairs = counts.rows, counts.known, counts.pairs

    def add(self, part: Adapted, frame: pd.DataFrame) -> None:
        return None


def file_head(table: RawTable, plan: FilePlan, cols: dict[str, str], rec: Recognition) -> Adapted:
    """The file-level outcome ``adapt_slices`` gives before its slices (totals, file issues)."""
    issues = [
        Issue(r, "row", "row has more fields than the header (unquoted separator in text?)")
        for r in table.bad_rows
    ]
    issues += [Issue(r, f, why, False) for r, f, why in plan.notes]
    issues += missing_item_warnings(cols, rec)
    cut = straddling_warning(table.frame, cols)
    if cut:
        issues.append(Issue(0, cols["age_band"], cut, False))
    return Adapted(
        pd.DataFrame(columns=[*RECORD_COLUMNS, "source_row"]),
        issues,
        plan.department,
        plan.period,
        len(table.frame) + len(table.bad_rows),
        plan.skipped,
        0,
        cols,
        rec,
    )
