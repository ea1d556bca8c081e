"""One adapter engine for every layout: raw table + layout -> canonical records + row report.

Vectorised pandas throughout (the IstvRecord pydantic model is the contract, not the hot loop).
Row-level problems quarantine the row with a reason naming the field; file-level problems
(department or period missing or contradicting) reject the whole file. The result types live in
:mod:`istvhub.ingest.adapted` and the per-item value maps in :mod:`istvhub.ingest.fields`; their
public names are importable from here as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from istvhub.ingest.adapted import (  # noqa: F401  (re-exported: the adapter's public names)
    FLAG_COL,
    ISTV_ITEMS,
    MAX_TEXT,
    Adapted,
    Issue,
    RowFlags,
    SliceContext,
    combine,
    missing_item_warnings,
    quarantine_frame,
)
from istvhub.ingest.codevalues import straddling_warning
from istvhub.ingest.csvread import release_freed_memory
from istvhub.ingest.fields import dates_of, location_of, person_of, texts_of, weapon_of
from istvhub.ingest.fileplan import DEPT_RE, FilePlan, plan_file  # noqa: F401  (DEPT_RE re-exported)
from istvhub.ingest.layouts import Layout
from istvhub.ingest.readers import RawTable
from istvhub.ingest.recognise import Recognition, flags_to_weapon, recognise
from istvhub.records import RECORD_COLUMNS, record_id_maker

#: rows adapted at a time: the record frame of a whole file never exists at once (issue 14.7)
SLICE_ROWS = 20_000


def record_ids(df: pd.DataFrame, ctx: SliceContext, flag: RowFlags) -> list[str]:
    """Keyed record ids from the row key (else a hash of the row's cells); a key seen earlier
    in the file (the plan's duplicates) quarantines the row. Each id is keyed with the plan's
    department: one code, or one per row when the batch path adapts many files at once."""
    cols = ctx.cols
    if "source_key" in cols:
        key = df[cols["source_key"]].astype("string").str.strip()
        missing_key = key.isna() | (key == "")
    else:
        key = pd.Series(pd.NA, index=df.index, dtype="string")
        missing_key = pd.Series(True, index=df.index)
    if missing_key.any():
        joined = df[missing_key].astype(str).agg("\x1f".join, axis=1)
        key.loc[missing_key] = ["h:" + hashlib.sha256(j.encode()).hexdigest()[:32] for j in joined]
    dup = ctx.plan.duplicate.reindex(df.index, fill_value=False)
    flag(
        dup, cols.get("source_key", "row"), "duplicate row key (same attendance twice in the file)"
    )
    dept: str | pd.Series = ctx.plan.department
    if isinstance(dept, pd.Series):
        pairs = zip(dept.tolist(), key.astype(str), strict=True)
        return [ctx.make_id(d, k) for d, k in pairs]
    return [ctx.make_id(dept, k) for k in key.astype(str)]


def adapt_rows(
    df: pd.DataFrame, ctx: SliceContext
) -> tuple[pd.DataFrame, RowFlags, pd.Series, pd.Series, int]:
    """The canonical record of every kept row of ``df`` under ``ctx``'s plan, bad rows still in
    (``flag.bad`` marks them); also the location and weapon texts as read (before the PII
    guard) and the number of cells it scrubbed. One file's rows, or a batch's (the plan's
    department and period then hold one value per row)."""
    plan, cols = ctx.plan, ctx.cols
    flag = RowFlags(df, pd.Series(np.asarray(df.index) + 1, index=df.index))
    if cols.get("weapon_code") == FLAG_COL:  # one Y/N column per weapon (set by the plan)
        df = df.copy()
        flagged, several = flags_to_weapon(df, ctx.rec.weapon_flags)
        df[FLAG_COL] = flagged.fillna("")
        flag(several, "weapon", "more than one weapon flagged; recorded the most serious", False)
    arrival_at, inc_date, inc_time = dates_of(df, ctx, flag)
    weapon, weapon_text0 = weapon_of(df, cols, ctx.layout, flag)
    location_type, loc_text0 = location_of(df, ctx, flag)
    age_band, sex = person_of(df, ctx, flag)
    loc_text, weapon_text, scrubbed = texts_of(df, ctx, flag, loc_text0, weapon_text0)
    ids = record_ids(df, ctx, flag)
    out = pd.DataFrame(
        {
            "record_id": ids,
            "department": plan.department,
            "period": plan.period,
            "arrival_at": arrival_at,
            "incident_date": inc_date.dt.date.where(inc_date.notna(), None),
            "incident_time": inc_time,
            "location_text": loc_text,
            "location_type": location_type,
            "weapon": weapon,
            "weapon_text": weapon_text,
            "age_band": age_band,
            "sex": sex,
            "source_row": flag.rows,
        },
        index=df.index,
    )
    return out, flag, loc_text0, weapon_text0, scrubbed


def adapt_slice(raw: pd.DataFrame, ctx: SliceContext, *, file: str) -> Adapted:
    """Adapt some rows of a file (a slice of its raw frame) under the file's plan."""
    plan, cols = ctx.plan, ctx.cols
    keep = plan.keep.reindex(raw.index, fill_value=False)
    df = raw if bool(keep.all()) else raw[keep]  # raw[keep] copies every cell: most keep all
    out, flag, _, _, scrubbed = adapt_rows(df, ctx)
    out = out[~flag.bad].reset_index(drop=True)[[*RECORD_COLUMNS, "source_row"]]
    return Adapted(
        out,
        flag.issues,
        plan.department,
        plan.period,
        len(raw),
        0,
        scrubbed,
        cols,
        ctx.rec,
        raw=raw if ctx.two_pass else None,
    )


def adapt_slices(
    table: RawTable,
    layout: Layout,
    *,
    file: str,
    department: str | None = None,
    period: str | None = None,
    aliases: dict[str, str] | None = None,
    fallback_department: str | None = None,
    home: Path | None = None,
    recognition: Recognition | None = None,
    size: int | None = None,
) -> tuple[Adapted, Iterator[Adapted]]:
    """The whole-file pass, then the file adapted ``size`` rows at a time.

    Returns (the file-level outcome: department, period, totals and file-level issues, with no
    records; an iterator of slices, each with its records and row issues). File-level problems
    raise :class:`FileRejected` before any slice is made; a slice raises only for a row key that
    is an NHS number."""
    size = size or SLICE_ROWS
    raw = table.frame
    rec = recognition or recognise(table.headers, raw, layout)
    cols = dict(rec.columns)
    plan = plan_file(
        raw,
        cols,
        layout,
        file=file,
        department=department,
        period=period,
        aliases=aliases,
        fallback_department=fallback_department,
    )
    if rec.weapon_flags and not {"weapon_code", "mechanism"} & set(cols):
        cols["weapon_code"] = FLAG_COL
    issues = [
        Issue(r, "row", "row has more fields than the header (unquoted separator in text?)")
        for r in table.bad_rows
    ]
    issues += [Issue(r, f, why, False) for r, f, why in plan.notes]
    issues += missing_item_warnings(cols, rec)
    cut = straddling_warning(raw, cols)
    if cut:
        issues.append(Issue(0, cols["age_band"], cut, False))
    head = Adapted(
        pd.DataFrame(columns=[*RECORD_COLUMNS, "source_row"]),
        issues,
        plan.department,
        plan.period,
        len(raw) + len(table.bad_rows),
        plan.skipped,
        0,
        cols,
        rec,
    )
    ctx = SliceContext(layout, rec, cols, plan, table.encoding, record_id_maker(home))
    if table.chunks is not None:  # pass 2 of a two-pass read: every column, a chunk at a time
        ctx.two_pass = True
        release_freed_memory()  # the whole-file pass's temporaries
        slices = _two_pass_slices(table.chunks, ctx, file, size)
    else:
        slices = (
            adapt_slice(raw.iloc[i : i + size], ctx, file=file) for i in range(0, len(raw), size)
        )
    return head, slices


def _two_pass_slices(
    chunks: Callable[[], Iterator[pd.DataFrame]], ctx: SliceContext, file: str, size: int
) -> Iterator[Adapted]:
    """Pass 2 of a two-pass read: each chunk parsed again, adapted ``size`` rows at a time,
    and the parser's freed temporaries handed back before the next."""
    for c in chunks():
        for i in range(0, len(c), size):
            yield adapt_slice(c.iloc[i : i + size], ctx, file=file)
        release_freed_memory()


def adapt(table: RawTable, layout: Layout, **kw: Any) -> Adapted:
    """Map a raw table to canonical records with the given layout (the whole file at once).

    ``aliases`` maps normalised department names (from the registry) to ODS codes, so a site
    column holding "St Thomas' Hospital" instead of RJ122 still resolves.
    ``fallback_department`` (from the file name or title rows) is used only when neither the
    file, the layout nor the caller names the department. Uploads go through
    :func:`adapt_slices`, which never holds the records of the whole file.
    """
    head, slices = adapt_slices(table, layout, **kw)
    return combine(head, slices)
