"""One adapter engine for every layout: raw table + layout -> canonical records + row report.

Vectorised pandas throughout (the IstvRecord pydantic model is the contract, not the hot loop).
Row-level problems quarantine the row with a reason naming the field; file-level problems
(department or period missing or contradicting) reject the whole file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from istvhub.ingest import parsing as P
from istvhub.ingest import plausibility as plausible
from istvhub.ingest.fileplan import DEPT_RE, FilePlan, plan_file  # noqa: F401  (DEPT_RE re-exported)
from istvhub.ingest.layouts import Layout
from istvhub.ingest.readers import RawTable
from istvhub.ingest.recognise import Recognition, flags_to_weapon, recognise
from istvhub.pii import scrub_series
from istvhub.records import AGE_BANDS, RECORD_COLUMNS, record_id_maker

#: the column built from one Y/N column per weapon
FLAG_COL = "weapon (from the weapon flag columns)"
MAX_TEXT = 255
_CLOCK = re.compile(r"\d[:.]\d\d")


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

    @property
    def quarantine(self) -> pd.DataFrame:
        return quarantine_frame(self.issues)


#: rows adapted at a time: the record frame of a whole file never exists at once (issue 14.7)
SLICE_ROWS = 20_000


class _Flags:
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
class _Ctx:
    """What every slice of one file shares."""

    layout: Layout
    rec: Recognition
    cols: dict[str, str]
    plan: FilePlan
    encoding: str | None
    make_id: Any


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


def _has_clock(s: pd.Series) -> pd.Series:
    return s.str.contains(_CLOCK, regex=True).fillna(False)


def _arrival(df: pd.DataFrame, ctx: _Ctx, flag: _Flags) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(arrival date, arrival time text, arrival timestamp), from the plan's parsed column."""
    cols, plan = ctx.cols, ctx.plan
    c = plan.arr_col
    arr = plan.arrival.reindex(df.index)
    inv = plan.arrival_invalid.reindex(df.index, fill_value=False)
    what = "arrival date/time" if "arrival_datetime" in cols else "arrival date"
    flag(inv, c, f"{what} is not a valid date")
    flag(arr.isna() & ~inv, c, "arrival date missing")
    arr_time = P.times_from_datetimes(arr, _has_clock(df[c]), midnight_unknown=False)
    arr_date = arr.dt.normalize()
    if "arrival_time" in cols:
        t, inv = P.parse_times(df[cols["arrival_time"]], midnight_unknown=False)
        flag(inv, cols["arrival_time"], "arrival time is not a valid time")
        arr_time = t.fillna(arr_time)
    hms = arr_time.fillna("00:00:00")
    secs = (
        pd.to_numeric(hms.str.slice(0, 2), errors="coerce").fillna(0) * 3600
        + pd.to_numeric(hms.str.slice(3, 5), errors="coerce").fillna(0) * 60
        + pd.to_numeric(hms.str.slice(6, 8), errors="coerce").fillna(0)
    )
    return arr_date, arr_time, arr_date + pd.to_timedelta(secs.astype("int64"), unit="s")


def _incident(df: pd.DataFrame, ctx: _Ctx, flag: _Flags) -> tuple[pd.Series, pd.Series]:
    """(incident date, incident time text) from whichever incident columns the file has."""
    cols, layout = ctx.cols, ctx.layout
    fmts, mu = tuple(layout.date_formats), layout.midnight_unknown
    inc_date = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    inc_time = pd.Series(pd.NA, index=df.index, dtype="string")
    if "incident_datetime" in cols:
        c = cols["incident_datetime"]
        idt, inv = P.parse_dates(df[c], dayfirst=layout.dayfirst, formats=fmts)
        flag(inv, c, "incident date/time is not a valid date")
        inc_time = P.times_from_datetimes(idt, _has_clock(df[c]), midnight_unknown=mu)
        inc_date = idt.dt.normalize()
    if "incident_date" in cols:
        c = cols["incident_date"]
        d, inv = P.parse_dates(df[c], dayfirst=layout.dayfirst, formats=fmts)
        flag(inv, c, "incident date is not a valid date")
        inc_time = inc_time.fillna(
            P.times_from_datetimes(d, _has_clock(df[c]), midnight_unknown=mu)
        )
        inc_date = inc_date.fillna(d.dt.normalize())
    if "incident_time" in cols:
        c = cols["incident_time"]
        t, inv = P.parse_times(df[c], midnight_unknown=mu)
        flag(inv, c, "incident time is not a valid time")
        inc_time = t.fillna(inc_time) if "incident_datetime" not in cols else inc_time.fillna(t)
    return inc_date, inc_time


def _dates(df: pd.DataFrame, ctx: _Ctx, flag: _Flags) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(arrival timestamp, incident date, incident time) with every date check on the rows."""
    cols, plan = ctx.cols, ctx.plan
    arr_date, arr_time, arrival_at = _arrival(df, ctx, flag)
    inc_date, inc_time = _incident(df, ctx, flag)
    inc_col = cols.get("incident_date") or cols.get("incident_datetime") or "incident_date"
    after = inc_date.notna() & arr_date.notna() & (inc_date > arr_date)
    flag(after, inc_col, "incident date is after the arrival date")
    _time_order(df, inc_date, inc_time, arr_date, arr_time, inc_col, flag)
    old = inc_date.notna() & arr_date.notna() & ((arr_date - inc_date).dt.days > 366)
    flag(old, inc_col, "incident date is more than a year before arrival")
    flag(plausible.future(arr_date), plan.arr_col, "arrival date is in the future")
    flag(plausible.future(inc_date), inc_col, "incident date is in the future")
    outside = arr_date.notna() & (arr_date.dt.strftime("%Y-%m") != plan.period)
    flag(outside, plan.arr_col, "arrival date outside the submission period")
    return arrival_at, inc_date, inc_time


def _location(df: pd.DataFrame, ctx: _Ctx, flag: _Flags) -> tuple[pd.Series, pd.Series]:
    """(location type, location text): codes, refined or derived from the description."""
    cols = ctx.cols
    location_type, no_code = _location_type(df, cols, ctx.layout, flag)
    if "location_text" in cols:
        loc_text = df[cols["location_text"]].astype("string").str.strip()
    elif ctx.plan.place_is_text:  # a "place" column that is mostly free text is the description
        tcol = cols.get("location_type_code") or cols["place"]
        loc_text = df[tcol].astype("string").str.strip()
    else:
        loc_text = pd.Series(pd.NA, index=df.index, dtype="string")
    # no usable location type code: the description often says it ("pub", "home", "bus");
    # an explicit "not known" code stays unknown
    if no_code.any():
        from_text = P.derive_from_text(loc_text[no_code], "location_type")
        location_type = location_type.copy()
        location_type.loc[from_text.index] = from_text.fillna("unknown")
    # a generic "other" code (e.g. SNOMED 74964007) is refined by a description that names a
    # place type; "other" stays when the text says nothing more specific
    other = location_type.eq("other") & loc_text.notna()
    if other.any():
        from_text = P.derive_from_text(loc_text[other], "location_type")
        specific = from_text.isin(["transport", "licensed_premises", "school", "workplace"])
        specific = specific.fillna(False).astype(bool)
        location_type.loc[specific[specific].index] = from_text[specific]
    return location_type, loc_text


def _person(df: pd.DataFrame, ctx: _Ctx, flag: _Flags) -> tuple[pd.Series, pd.Series]:
    """(age band, sex), each unrecognised value a warning."""
    cols, layout = ctx.cols, ctx.layout
    if "age_band" in cols:
        age_band, unrec = P.age_bands_from_text(df[cols["age_band"]])
        inline = layout.code_maps.get("age_band")
        if inline:
            mapped = df[cols["age_band"]].astype("string").str.strip().map(inline)
            mapped = mapped.where(mapped.isin(AGE_BANDS), pd.NA)
            age_band = mapped.fillna(age_band).astype("string")
            unrec = unrec & mapped.isna()
        if "age" in cols:
            ab2, _ = P.age_bands_from_years(df[cols["age"]])
            age_band = age_band.where(age_band != "unknown", ab2)
        flag(unrec, cols["age_band"], "age band not recognised; recorded as unknown", False)
    elif "age" in cols:
        age_band, unrec = P.age_bands_from_years(df[cols["age"]])
        flag(unrec, cols["age"], "age not a number of years 0-120; recorded as unknown", False)
    else:
        age_band = pd.Series("unknown", index=df.index, dtype="string")
    if "sex" in cols:
        sex, _m, unrec = P.map_codes(
            df[cols["sex"]], "sex", layout.codes.get("sex"), layout.code_maps.get("sex")
        )
        flag(unrec, cols["sex"], "sex code not recognised; recorded as unknown", False)
    else:
        sex = pd.Series("unknown", index=df.index, dtype="string")
    return age_band, sex


def _texts(
    df: pd.DataFrame, ctx: _Ctx, flag: _Flags, loc_text: pd.Series, weapon_text: pd.Series
) -> tuple[pd.Series, pd.Series, int]:
    """Free text scrubbed of identifiers and cut to MAX_TEXT, each change a warning."""
    cols = ctx.cols
    scrubbed_loc, n1, kinds_loc = scrub_series(_blank_to_na(loc_text))
    scrubbed_wpn, n2, kinds_wpn = scrub_series(_blank_to_na(weapon_text))
    for kinds, fname in ((kinds_loc, "location_text"), (kinds_wpn, "weapon_text")):
        for what in kinds.dropna().unique():
            flag(
                (kinds == what).fillna(False),
                cols.get(fname, fname),
                f"identifier removed from free text ({what})",
                False,
            )
    for txt, fname in ((scrubbed_loc, "location_text"), (scrubbed_wpn, "weapon_text")):
        flag(
            (txt.str.len() > MAX_TEXT).fillna(False),
            cols.get(fname, fname),
            f"text longer than {MAX_TEXT} characters; cut to {MAX_TEXT}",
            False,
        )
    if "location_text" in cols:
        flag(scrubbed_loc.isna(), cols["location_text"], "location description is empty", False)
    _encoding_warnings(df, ctx.encoding, flag)
    return scrubbed_loc.str.slice(0, MAX_TEXT), scrubbed_wpn.str.slice(0, MAX_TEXT), n1 + n2


def _record_ids(df: pd.DataFrame, ctx: _Ctx, flag: _Flags, file: str) -> list[str]:
    """Keyed record ids from the row key (else a hash of the row's cells); a key seen earlier
    in the file (the plan's duplicates) quarantines the row."""
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
    dept = ctx.plan.department
    return [ctx.make_id(dept, k) for k in key.astype(str)]


def adapt_slice(raw: pd.DataFrame, ctx: _Ctx, *, file: str) -> Adapted:
    """Adapt some rows of a file (a slice of its raw frame) under the file's plan."""
    plan, cols = ctx.plan, ctx.cols
    keep = plan.keep.reindex(raw.index, fill_value=False)
    df = raw if bool(keep.all()) else raw[keep]  # raw[keep] copies every cell: most keep all
    flag = _Flags(df, pd.Series(np.asarray(df.index) + 1, index=df.index))
    if cols.get("weapon_code") == FLAG_COL:  # one Y/N column per weapon (set by the plan)
        df = df.copy()
        flagged, several = flags_to_weapon(df, ctx.rec.weapon_flags)
        df[FLAG_COL] = flagged.fillna("")
        flag(several, "weapon", "more than one weapon flagged; recorded the most serious", False)
    arrival_at, inc_date, inc_time = _dates(df, ctx, flag)
    weapon, weapon_text = _weapon(df, cols, ctx.layout, flag)
    location_type, loc_text = _location(df, ctx, flag)
    age_band, sex = _person(df, ctx, flag)
    loc_text, weapon_text, scrubbed = _texts(df, ctx, flag, loc_text, weapon_text)
    ids = _record_ids(df, ctx, flag, file)
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
    out = out[~flag.bad].reset_index(drop=True)[[*RECORD_COLUMNS, "source_row"]]
    return Adapted(
        out, flag.issues, plan.department, plan.period, len(raw), 0, scrubbed, cols, ctx.rec
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
    ctx = _Ctx(layout, rec, cols, plan, table.encoding, record_id_maker(home))
    slices = (adapt_slice(raw.iloc[i : i + size], ctx, file=file) for i in range(0, len(raw), size))
    return head, slices


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


def _time_order(df, inc_date, inc_time, arr_date, arr_time, inc_col, flag) -> None:
    """Same-day assault time after the arrival time (arrival 01:00, assault 23:00): a dubious
    order, stored as sent and warned (issue 14.8)."""
    same = inc_date.notna() & arr_date.notna() & (inc_date == arr_date)
    both = same & inc_time.notna() & arr_time.notna()
    if both.any():
        later = both & (inc_time.fillna("") > arr_time.fillna(""))
        flag(
            later.fillna(False).astype(bool),
            inc_col,
            "assault time is after the arrival time on the same day; check both times",
            False,
        )


def _encoding_warnings(df: pd.DataFrame, encoding: str | None, flag) -> None:
    """Cells re-read from a file that was not UTF-8, or holding unreadable bytes: each row is a
    warning (the text may be garbled, e.g. Shift-JIS read as Windows-1252)."""
    for c in df.columns:
        col = df[c].astype("string")
        if encoding in ("cp1252", "mixed"):
            flag(
                col.str.contains(r"[^\x00-\x7f]", regex=True).fillna(False),
                str(c),
                "the file is not UTF-8: this text was read as Windows-1252, so accented or "
                "non-Latin characters may be wrong",
                False,
            )
        flag(
            col.str.contains("\ufffd", regex=False).fillna(False),
            str(c),
            "unreadable characters in this cell were replaced",
            False,
        )


def _blank_to_na(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.strip()
    return s.where(s.notna() & (s != ""), pd.NA)


def _weapon(
    df: pd.DataFrame, cols: dict[str, str], layout: Layout, flag
) -> tuple[pd.Series, pd.Series]:
    text = (
        df[cols["weapon_text"]].astype("string")
        if "weapon_text" in cols
        else pd.Series(pd.NA, index=df.index, dtype="string")
    )
    weapon = pd.Series("unknown", index=df.index, dtype="string")
    src = None
    for fname in ("weapon_code", "mechanism"):
        if fname in cols:
            src = fname
            w, missing, unrec = P.map_codes(
                df[cols[fname]], "weapon", layout.codes.get(fname), layout.code_maps.get(fname)
            )
            weapon = w
            flag(unrec, cols[fname], "weapon code not recognised; recorded as unknown", False)
            # plain-English weapon columns are the weapon text when there is no other
            if (
                "weapon_text" not in cols
                and not layout.codes.get(fname)
                and cols[fname] != FLAG_COL
            ):
                txt = df[cols[fname]].astype("string")
                is_code = txt.str.fullmatch(r"\s*\d{1,18}\s*").fillna(False)
                text = txt.where(~is_code & ~missing, pd.NA)
            break
    if src is None and "weapon_text" not in cols:
        return weapon, text
    from_text = P.derive_from_text(text, "weapon") if "weapon_text" in cols else None
    if from_text is not None:
        # the text decides when the code says nothing, or says "body part" while the text
        # names an object (a coded "other" keeps its code: the text describes the other)
        obj = from_text.isin(["sharp", "blunt", "glass", "firearm"]).fillna(False)
        weak = weapon.eq("unknown") | (weapon.eq("body_part") & obj)
        better = from_text.notna() & (from_text != "unknown") & weak
        weapon = weapon.where(~better, from_text)
    return weapon, text


def _location_type(
    df: pd.DataFrame, cols: dict[str, str], layout: Layout, flag
) -> tuple[pd.Series, pd.Series]:
    """Location type codes, and the mask of rows without a usable code (blank/unrecognised)."""
    for fname in ("location_type_code", "place"):
        if fname in cols:
            lt, _missing, unrec = P.map_codes(
                df[cols[fname]],
                "location_type",
                layout.codes.get(fname),
                layout.code_maps.get(fname),
            )
            flag(
                unrec,
                cols[fname],
                "location type code not recognised; taken from the location description "
                "where it names a place type, else recorded as unknown",
                False,
            )
            blank = df[cols[fname]].astype("string").str.strip().fillna("").eq("")
            return lt, (blank | unrec)
    return (pd.Series("unknown", index=df.index, dtype="string"), pd.Series(True, index=df.index))
