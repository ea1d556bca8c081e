"""One adapter engine for every layout: raw table + layout -> canonical records + row report.

Vectorised pandas throughout (the IstvRecord pydantic model is the contract, not the hot loop).
Row-level problems quarantine the row with a reason naming the field; file-level problems
(department or period missing or contradicting) reject the whole file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub._errors import FileRejected
from istvhub.core.periods import PERIOD_RE
from istvhub.ingest import parsing as P
from istvhub.ingest import plausibility as plausible
from istvhub.ingest.identity import refuse_nhs_number_keys
from istvhub.ingest.layouts import Layout
from istvhub.ingest.readers import RawTable
from istvhub.ingest.recognise import Recognition, flags_to_weapon, recognise
from istvhub.pii import scrub_series
from istvhub.records import AGE_BANDS, RECORD_COLUMNS, record_id_maker

#: the column built from one Y/N column per weapon
FLAG_COL = "weapon (from the weapon flag columns)"
DEPT_RE = re.compile(r"^[A-Z0-9]{3,12}$")
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

    @property
    def quarantine(self) -> pd.DataFrame:
        q = [i for i in self.issues if i.quarantined]
        return pd.DataFrame(
            {
                "source_row": [i.row for i in q],
                "field": [i.field for i in q],
                "reason": [i.reason for i in q],
            }
        )


def _col(raw: pd.DataFrame, cols: dict[str, str], name: str) -> pd.Series | None:
    c = cols.get(name)
    return raw[c] if c is not None else None


def _period_of(value: str) -> str | None:
    """YYYY-MM from a period cell: 2025-01, 2025-01-01, 01/2025, Jan 2025, January-2025..."""
    v = str(value).strip()
    if not v:
        return None
    if PERIOD_RE.match(v):
        return v
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{4})", v)
    if m and 1 <= int(m.group(1)) <= 12:
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    m = re.fullmatch(r"(\d{4})[/.]?(\d{2})", v)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{m.group(2)}"
    for fmt in ("%b %Y", "%B %Y", "%b-%Y", "%B-%Y", "%b-%y", "%b %y", "%Y %b", "%Y %B"):
        ts = pd.to_datetime(v, format=fmt, errors="coerce")
        if pd.notna(ts):
            return ts.strftime("%Y-%m")
    dt, inv = P.parse_dates(pd.Series([v]), dayfirst=True)
    if not inv.iloc[0] and pd.notna(dt.iloc[0]):
        return dt.iloc[0].strftime("%Y-%m")
    return None


def _resolve_department(
    raw: pd.DataFrame,
    cols: dict[str, str],
    layout: Layout,
    option: str | None,
    file: str,
    aliases: dict[str, str] | None = None,
    fallback: str | None = None,
) -> str:
    opt = option.strip().upper() if option else None
    const = layout.constants.get("department")
    const = const.strip().upper() if const else None
    col_val = None
    c = cols.get("department")
    if c is not None:
        vals = raw[c].str.strip()
        uniq = sorted(
            {
                (aliases or {}).get(P.norm_text(v), v.upper())
                for v in vals[vals != ""].unique().tolist()
            }
        )
        if len(uniq) > 1:
            raise FileRejected(
                "more than one department code in one file: upload one department per file",
                file=file,
                field=c,
            )
        col_val = uniq[0] if uniq else None
    found = [v for v in (col_val, const) if v]
    if opt and any(v != opt for v in found):
        raise FileRejected(
            "department in the file contradicts --department", file=file, field=c or "department"
        )
    if col_val and const and col_val != const:
        raise FileRejected(
            "department in the file contradicts the layout's department", file=file, field=c
        )
    dept = opt or col_val or const or fallback
    if not dept:
        raise FileRejected(
            "department missing: the file has no site code column; give --department ODS",
            file=file,
            field="department",
        )
    if not DEPT_RE.match(dept):
        raise FileRejected(
            "department code is not an ODS site code (3-12 letters/digits)",
            file=file,
            field=c or "department",
        )
    return dept


def adapt(
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
) -> Adapted:
    """Map a raw table to canonical records with the given layout.

    ``aliases`` maps normalised department names (from the registry) to ODS codes, so a site
    column holding "St Thomas' Hospital" instead of RJ122 still resolves.
    ``fallback_department`` (from the file name or title rows) is used only when neither the
    file, the layout nor the caller names the department.
    """
    raw = table.frame
    rec = recognition or recognise(table.headers, raw, layout)
    cols = dict(rec.columns)
    n_total = len(raw) + len(table.bad_rows)
    rows = pd.Series(np.asarray(raw.index) + 1, index=raw.index)  # 1-based data row numbers
    issues: list[Issue] = [
        Issue(r, "row", "row has more fields than the header (unquoted separator in text?)")
        for r in table.bad_rows
    ]
    fmts = tuple(layout.date_formats)
    mu = layout.midnight_unknown

    if period is not None and not PERIOD_RE.match(period.strip()):
        raise FileRejected("--period must be YYYY-MM", file=file, field="--period")
    dept = _resolve_department(raw, cols, layout, department, file, aliases, fallback_department)

    # --- which rows are ISTV records (ECDS: intent = assault) --------------------------------
    keep = pd.Series(True, index=raw.index)
    skipped = 0
    filt = layout.filter_field or ("intent" if "intent" in cols else None)
    if filt and filt in cols:
        intent, _miss, unrec = P.map_codes(
            raw[cols[filt]], "intent", layout.codes.get(filt), layout.code_maps.get(filt)
        )
        wanted = set(layout.filter_keep or ["assault"])
        keep = intent.isin(wanted).fillna(False).astype(bool)
        # an intent code missing from our list: an assault location description (recorded only
        # for assaults) says the row is an assault; such rows are kept and reported
        if unrec.any() and "location_text" in cols:
            described = raw[cols["location_text"]].astype("string").str.strip().fillna("") != ""
            rescued = (unrec & described & ~keep).astype(bool)
            if rescued.any():
                keep = keep | rescued
                issues.extend(
                    Issue(
                        int(r),
                        cols[filt],
                        "intent code not recognised; kept as an "
                        "assault because an assault location is recorded",
                        False,
                    )
                    for r in rows[rescued]
                )
        skipped = int((~keep).sum())
    # raw[keep] copies every cell: skip it when every row is kept (most files)
    df = raw if bool(keep.all()) else raw[keep]
    rows = rows[keep]
    bad = pd.Series(False, index=df.index)
    if rec.weapon_flags and not {"weapon_code", "mechanism"} & set(cols):
        df = df.copy()
        flagged, several = flags_to_weapon(df, rec.weapon_flags)
        df[FLAG_COL] = flagged.fillna("")
        cols["weapon_code"] = FLAG_COL
        several_flags = several
    else:
        several_flags = None

    def flag(mask: pd.Series, fieldname: str, reason: str, quarantine: bool = True) -> None:
        nonlocal bad
        mask = mask.reindex(df.index, fill_value=False).astype(bool)
        if quarantine:
            mask = mask & ~bad  # one reason per row: the first problem found
        if not mask.any():
            return
        issues.extend(Issue(int(r), fieldname, reason, quarantine) for r in rows[mask])
        if quarantine:
            bad = bad | mask

    # --- arrival -----------------------------------------------------------------------------
    has_dt_text = pd.Series(False, index=df.index)
    if "arrival_datetime" in cols:
        c = cols["arrival_datetime"]
        arr, inv = P.parse_dates(df[c], dayfirst=layout.dayfirst, formats=fmts)
        flag(inv, c, "arrival date/time is not a valid date")
        flag(arr.isna() & ~inv, c, "arrival date missing")
        has_dt_text = df[c].str.contains(r"\d[:.]\d\d", regex=True).fillna(False)
        arr_time = P.times_from_datetimes(arr, has_dt_text, midnight_unknown=False)
        arr_date = arr.dt.normalize()
    elif "arrival_date" in cols:
        c = cols["arrival_date"]
        arr_date, inv = P.parse_dates(df[c], dayfirst=layout.dayfirst, formats=fmts)
        flag(inv, c, "arrival date is not a valid date")
        flag(arr_date.isna() & ~inv, c, "arrival date missing")
        has_dt_text = df[c].str.contains(r"\d[:.]\d\d", regex=True).fillna(False)
        arr_time = P.times_from_datetimes(arr_date, has_dt_text, midnight_unknown=False)
        arr_date = arr_date.dt.normalize()
    else:
        raise FileRejected(
            "no arrival date column found (e.g. Arrival_Date, Date seen, Der_EC_Arrival_Date_Time)",
            file=file,
            field="arrival_date",
        )
    if "arrival_time" in cols:
        c = cols["arrival_time"]
        t, inv = P.parse_times(df[c], midnight_unknown=False)
        flag(inv, c, "arrival time is not a valid time")
        arr_time = t.fillna(arr_time)
    hms = arr_time.fillna("00:00:00")
    secs = (
        pd.to_numeric(hms.str.slice(0, 2), errors="coerce").fillna(0) * 3600
        + pd.to_numeric(hms.str.slice(3, 5), errors="coerce").fillna(0) * 60
        + pd.to_numeric(hms.str.slice(6, 8), errors="coerce").fillna(0)
    )
    arrival_at = arr_date + pd.to_timedelta(secs.astype("int64"), unit="s")

    # --- incident date/time ------------------------------------------------------------------
    inc_date = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    inc_time = pd.Series(pd.NA, index=df.index, dtype="string")
    if "incident_datetime" in cols:
        c = cols["incident_datetime"]
        idt, inv = P.parse_dates(df[c], dayfirst=layout.dayfirst, formats=fmts)
        flag(inv, c, "incident date/time is not a valid date")
        txt = df[c].str.contains(r"\d[:.]\d\d", regex=True).fillna(False)
        inc_time = P.times_from_datetimes(idt, txt, midnight_unknown=mu)
        inc_date = idt.dt.normalize()
    if "incident_date" in cols:
        c = cols["incident_date"]
        d, inv = P.parse_dates(df[c], dayfirst=layout.dayfirst, formats=fmts)
        flag(inv, c, "incident date is not a valid date")
        txt = df[c].str.contains(r"\d[:.]\d\d", regex=True).fillna(False)
        inc_time = inc_time.fillna(P.times_from_datetimes(d, txt, midnight_unknown=mu))
        inc_date = inc_date.fillna(d.dt.normalize())
    if "incident_time" in cols:
        c = cols["incident_time"]
        t, inv = P.parse_times(df[c], midnight_unknown=mu)
        flag(inv, c, "incident time is not a valid time")
        inc_time = t.fillna(inc_time) if "incident_datetime" not in cols else inc_time.fillna(t)
    inc_col = cols.get("incident_date") or cols.get("incident_datetime") or "incident_date"
    after = inc_date.notna() & arr_date.notna() & (inc_date > arr_date)
    flag(after, inc_col, "incident date is after the arrival date")
    _time_order(df, inc_date, inc_time, arr_date, arr_time, inc_col, flag)
    old = inc_date.notna() & arr_date.notna() & ((arr_date - inc_date).dt.days > 366)
    flag(old, inc_col, "incident date is more than a year before arrival")

    # --- period ------------------------------------------------------------------------------
    per = _resolve_period(df, cols, layout, period, arr_date, bad, file)
    arr_month = arr_date.dt.strftime("%Y-%m")
    outside = arr_date.notna() & (arr_month != per)
    arr_col = cols.get("arrival_date") or cols.get("arrival_datetime") or "arrival_date"
    per_col = cols.get("period_start") or cols.get("period") or ("--period" if period else arr_col)
    plausible.check_period(per, file=file, field=per_col)
    flag(plausible.future(arr_date), arr_col, "arrival date is in the future")
    flag(plausible.future(inc_date), inc_col, "incident date is in the future")
    valid_arr = arr_date.notna() & ~bad
    if valid_arr.any() and (outside & valid_arr).sum() > 0.5 * valid_arr.sum():
        raise FileRejected(
            "the period contradicts the arrival dates (most rows fall in another month)",
            file=file,
            field=arr_col,
        )
    flag(outside, arr_col, "arrival date outside the submission period")

    # --- codes -------------------------------------------------------------------------------
    if several_flags is not None:
        flag(
            several_flags,
            "weapon",
            "more than one weapon flagged; recorded the most serious",
            False,
        )
    weapon, weapon_text = _weapon(df, cols, layout, flag)
    location_type, no_code = _location_type(df, cols, layout, flag)
    if "location_text" in cols:
        loc_text = df[cols["location_text"]].astype("string").str.strip()
    else:
        loc_text = pd.Series(pd.NA, index=df.index, dtype="string")
        # a "place" column that is mostly free text is the location description
        tcol = cols.get("location_type_code") or cols.get("place")
        if tcol is not None:
            _lt, miss, unrec = P.map_codes(df[tcol], "location_type")
            if (~miss).sum() and unrec.sum() > 0.5 * (~miss).sum():
                loc_text = df[tcol].astype("string").str.strip()
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

    # --- PII scrub of free text --------------------------------------------------------------
    loc_text = _blank_to_na(loc_text)
    weapon_text = _blank_to_na(weapon_text)
    scrubbed_loc, n1, kinds_loc = scrub_series(loc_text)
    scrubbed_wpn, n2, kinds_wpn = scrub_series(weapon_text)
    for kinds, fname in ((kinds_loc, "location_text"), (kinds_wpn, "weapon_text")):
        for what in kinds.dropna().unique():
            flag(
                (kinds == what).fillna(False),
                cols.get(fname, fname),
                f"identifier removed from free text ({what})",
                False,
            )
    loc_text, weapon_text = scrubbed_loc, scrubbed_wpn
    for txt, fname in ((loc_text, "location_text"), (weapon_text, "weapon_text")):
        flag(
            (txt.str.len() > MAX_TEXT).fillna(False),
            cols.get(fname, fname),
            f"text longer than {MAX_TEXT} characters; cut to {MAX_TEXT}",
            False,
        )
    if "location_text" in cols:
        flag(loc_text.isna(), cols["location_text"], "location description is empty", False)
    _encoding_warnings(df, table.encoding, flag)
    loc_text = loc_text.str.slice(0, MAX_TEXT)
    weapon_text = weapon_text.str.slice(0, MAX_TEXT)

    # --- row keys and record ids -------------------------------------------------------------
    if "source_key" in cols:
        key = df[cols["source_key"]].astype("string").str.strip()
        missing_key = key.isna() | (key == "")
        refuse_nhs_number_keys(key, rows, file=file, field=cols["source_key"])
    else:
        key = pd.Series(pd.NA, index=df.index, dtype="string")
        missing_key = pd.Series(True, index=df.index)
    if missing_key.any():
        sub = df[missing_key]
        joined = sub.astype(str).agg("\x1f".join, axis=1)
        key.loc[missing_key] = ["h:" + hashlib.sha256(j.encode()).hexdigest()[:32] for j in joined]
    key_col = cols.get("source_key", "row")
    dup = key.duplicated(keep="first") & ~bad
    flag(dup, key_col, "duplicate row key (same attendance twice in the file)")

    make_id = record_id_maker(home)
    out = pd.DataFrame(
        {
            "record_id": [make_id(dept, k) for k in key.astype(str)],
            "department": dept,
            "period": per,
            "arrival_at": arrival_at,
            "incident_date": inc_date.dt.date.where(inc_date.notna(), None),
            "incident_time": inc_time,
            "location_text": loc_text,
            "location_type": location_type,
            "weapon": weapon,
            "weapon_text": weapon_text,
            "age_band": age_band,
            "sex": sex,
            "source_row": rows,
        },
        index=df.index,
    )
    out = out[~bad].reset_index(drop=True)
    out = out[[*RECORD_COLUMNS, "source_row"]]
    issues.extend(missing_item_warnings(cols, rec))
    issues.sort(key=lambda i: (i.row, i.field))
    return Adapted(out, issues, dept, per, n_total, skipped, n1 + n2, cols, rec)


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


def _resolve_period(
    df: pd.DataFrame,
    cols: dict[str, str],
    layout: Layout,
    option: str | None,
    arr_date: pd.Series,
    bad: pd.Series,
    file: str,
) -> str:
    opt = option.strip() if option else None
    col_period = None
    col_name = None
    for fname in ("period_start", "period"):
        c = cols.get(fname)
        if c is None:
            continue
        vals = df[c].str.strip()
        uniq = sorted(set(vals[vals != ""].tolist()))
        if not uniq:
            continue
        months = {_period_of(u) for u in uniq}
        if None in months:
            raise FileRejected("reporting period is not a valid date", file=file, field=c)
        if len(months) > 1:
            raise FileRejected("more than one reporting period in one file", file=file, field=c)
        col_period, col_name = months.pop(), c
        break
    if col_period and opt and col_period != opt:
        raise FileRejected(
            "reporting period in the file contradicts --period", file=file, field=col_name
        )
    if col_period:
        return col_period
    if opt:
        return opt
    months = arr_date[arr_date.notna() & ~bad].dt.strftime("%Y-%m")
    if "arrival" in layout.period_from and len(months):
        return str(months.value_counts().idxmax())
    raise FileRejected(
        "period missing: the file has no reporting period and no valid arrival "
        "dates; give --period YYYY-MM",
        file=file,
        field="period",
    )


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
