"""Each ISTV item from its columns: dates and times, location type and text, weapon, age band
and sex mapped to the canonical values, every coercion a row warning and every impossible value
a quarantined row (the value maps of the adapter engine, :mod:`istvhub.ingest.adapters`).
"""

from __future__ import annotations

import re

import pandas as pd

from istvhub.ingest import parsing as P
from istvhub.ingest import plausibility as plausible
from istvhub.ingest.adapted import FLAG_COL, MAX_TEXT, RowFlags, SliceContext
from istvhub.ingest.ages import (
    age_bands_from_text,
    age_bands_from_years,
    straddle_reason,
    straddles,
)
from istvhub.ingest.layouts import Layout
from istvhub.pii import scrub_series
from istvhub.records import AGE_BANDS

_CLOCK = re.compile(r"\d[:.]\d\d")


def _has_clock(s: pd.Series) -> pd.Series:
    return s.str.contains(_CLOCK, regex=True).fillna(False)


def _arrival(
    df: pd.DataFrame, ctx: SliceContext, flag: RowFlags
) -> tuple[pd.Series, pd.Series, pd.Series]:
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


def _incident(df: pd.DataFrame, ctx: SliceContext, flag: RowFlags) -> tuple[pd.Series, pd.Series]:
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


def dates_of(
    df: pd.DataFrame, ctx: SliceContext, flag: RowFlags
) -> tuple[pd.Series, pd.Series, pd.Series]:
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


def location_of(df: pd.DataFrame, ctx: SliceContext, flag: RowFlags) -> tuple[pd.Series, pd.Series]:
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


def person_of(df: pd.DataFrame, ctx: SliceContext, flag: RowFlags) -> tuple[pd.Series, pd.Series]:
    """(age band, sex), each unrecognised value a warning."""
    cols, layout = ctx.cols, ctx.layout
    if "age_band" in cols:
        age_band, unrec = age_bands_from_text(df[cols["age_band"]])
        inline = layout.code_maps.get("age_band")
        if inline:
            mapped = df[cols["age_band"]].astype("string").str.strip().map(inline)
            mapped = mapped.where(mapped.isin(AGE_BANDS), pd.NA)
            age_band = mapped.fillna(age_band).astype("string")
            unrec = unrec & mapped.isna()
        if "age" in cols:
            ab2, _ = age_bands_from_years(df[cols["age"]])
            age_band = age_band.where(age_band != "unknown", ab2)
            unrec = unrec & age_band.eq("unknown")
        _band_warnings(df[cols["age_band"]], unrec, cols["age_band"], flag)
    elif "age" in cols:
        age_band, unrec = age_bands_from_years(df[cols["age"]])
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


def texts_of(
    df: pd.DataFrame, ctx: SliceContext, flag: RowFlags, loc_text: pd.Series, weapon_text: pd.Series
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


def weapon_of(
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


def _band_warnings(s: pd.Series, unrec: pd.Series, col: str, flag: RowFlags) -> None:
    """A band cut elsewhere ("16-24") says which hub bands it straddles; anything else is
    simply not recognised. Both are recorded as unknown."""
    raw = s.astype("string").str.strip()
    cut = {str(v): straddles(str(v)) for v in raw[unrec].dropna().unique()}
    cut = {v: spans for v, spans in cut.items() if spans}
    for v, spans in cut.items():
        flag(unrec & raw.eq(v).fillna(False), col, straddle_reason(v, spans), False)
    other = unrec & ~raw.isin(list(cut)).fillna(False).astype(bool)
    flag(other, col, "age band not recognised; recorded as unknown", False)
