"""The first pass of adapting a file: what is decided once for the whole file.

Why a pass of its own: a 50 MB upload adapted as one frame peaked at 517 MB (issue 14 point 7).
The decisions that need every row (the department, the period and the majority of arrival
dates, duplicate row keys, which rows are ISTV records, whether a "place" column is free text)
read only the few columns they need here; the rest of adapting runs on slices of rows
(:func:`istvhub.ingest.adapters.adapt_slices`), so the record frame of the whole file never
exists at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from istvhub._errors import FileRejected
from istvhub.core.periods import PERIOD_RE
from istvhub.ingest import parsing as P
from istvhub.ingest import plausibility as plausible
from istvhub.ingest.identity import refuse_nhs_number_keys
from istvhub.ingest.layouts import Layout
from istvhub.ingest.twopass import ROW_HASH

DEPT_RE = re.compile(r"^[A-Z0-9]{3,12}$")
_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{4})")
_YEAR_MONTH = re.compile(r"(\d{4})[/.]?(\d{2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass
class FilePlan:
    """Whole-file decisions, indexed like the raw frame (labels of its rows)."""

    department: str
    period: str
    keep: pd.Series  # bool: the row is an ISTV record (intent filter)
    duplicate: pd.Series  # bool, kept rows: the row key was seen earlier in the file
    arrival: pd.Series  # kept rows: the parsed arrival date(-time) column
    arrival_invalid: pd.Series  # kept rows: the arrival cell is not a valid date
    place_is_text: bool  # the location type column is mostly free text: it is the description
    skipped: int  # rows that are not ISTV records
    #: (row, field, reason) warnings decided here (intent codes kept as assaults)
    notes: list[tuple[int, str, str]] = field(default_factory=list)
    per_col: str = "period"
    arr_col: str = "arrival_date"


@lru_cache(maxsize=4096)
def period_of(value: str) -> str | None:
    """YYYY-MM from a period cell: 2025-01, 2025-01-01, 01/2025, Jan 2025, January-2025...
    Memoised, and an ISO date read without pandas: a miss of the quick patterns tries eight
    date formats (~10 ms a file, paid by every monthly file: issue 16)."""
    v = str(value).strip()
    if not v:
        return None
    if PERIOD_RE.match(v):
        return v
    m = _ISO_DATE.fullmatch(v)
    if m and 1990 <= int(m.group(1)) <= 2099:  # the years the date parser accepts too
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).strftime("%Y-%m")
        except ValueError:
            pass
    m = _MONTH_YEAR.fullmatch(v)
    if m and 1 <= int(m.group(1)) <= 12:
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    m = _YEAR_MONTH.fullmatch(v)
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


def resolve_department(
    raw: pd.DataFrame,
    cols: dict[str, str],
    layout: Layout,
    option: str | None,
    file: str,
    aliases: dict[str, str] | None = None,
    fallback: str | None = None,
) -> str:
    """The one department of the file: the option, a site column, the layout's constant."""
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
        said = next(v for v in found if v != opt)
        raise FileRejected(
            f"the file is department {said}'s but was filed under department {opt} "
            "(--department): upload it under its own department",
            file=file,
            field=c or "department",
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


def _keep_rows(
    raw: pd.DataFrame, cols: dict[str, str], layout: Layout
) -> tuple[pd.Series, list[tuple[int, str, str]]]:
    """Which rows are ISTV records (ECDS: intent = assault), and notes on rescued rows."""
    keep = pd.Series(True, index=raw.index)
    filt = layout.filter_field or ("intent" if "intent" in cols else None)
    if not filt or filt not in cols:
        return keep, []
    intent, _miss, unrec = P.map_codes(
        raw[cols[filt]], "intent", layout.codes.get(filt), layout.code_maps.get(filt)
    )
    keep = intent.isin(set(layout.filter_keep or ["assault"])).fillna(False).astype(bool)
    notes: list[tuple[int, str, str]] = []
    # an intent code missing from our list: an assault location description (recorded only
    # for assaults) says the row is an assault; such rows are kept and reported
    if unrec.any() and "location_text" in cols:
        described = raw[cols["location_text"]].astype("string").str.strip().fillna("") != ""
        rescued = (unrec & described & ~keep).astype(bool)
        if rescued.any():
            keep = keep | rescued
            why = (
                "intent code not recognised; kept as an assault because an assault "
                "location is recorded"
            )
            notes = [(int(i) + 1, cols[filt], why) for i in raw.index[rescued]]
    return keep, notes


def _duplicates(raw: pd.DataFrame, cols: dict[str, str]) -> pd.Series:
    """Rows whose key (the row key column, else every cell of the row) appeared earlier.

    Hashed to 64 bits per row (pandas' own row hash) so the whole file's keys cost 8 bytes a
    row; equal keys hash equal, and a false duplicate needs a 64-bit collision. Hashed
    :data:`_HASH_ROWS` rows at a time: hashing a whole column at once turns every cell of it
    into a Python string first (about 60 MB for a 50 MB upload, issue 14 point 7)."""
    src = cols.get("source_key")
    has = np.zeros(len(raw), dtype=bool)
    hashes = np.zeros(len(raw), dtype=np.uint64)
    for i in range(0, len(raw), _HASH_ROWS):
        part = slice(i, i + _HASH_ROWS)
        h = hashes[part]
        if src is not None:  # stripped a part at a time, not as a copy of the whole column
            key = raw[src].iloc[part].astype("string").str.strip()
            has[part] = (key.notna() & (key != "")).to_numpy(dtype=bool)
        hp = has[part]
        if src is not None and hp.any():
            h[hp] = pd.util.hash_pandas_object(key[hp], index=False).to_numpy()
        if (~hp).any():
            # a row without a key: the whole row is its key, kept apart from the keyed rows
            if ROW_HASH in raw.columns:  # a two-pass read hashed every cell in its pass 1
                whole = raw[ROW_HASH].iloc[part][~hp].to_numpy(dtype=np.uint64)
            else:
                whole = pd.util.hash_pandas_object(raw.iloc[part][~hp], index=False).to_numpy()
            h[~hp] = whole
    dup = np.zeros(len(raw), dtype=bool)
    for sel in (has, ~has):
        if sel.any():
            dup[sel] = _later_repeats(hashes if sel.all() else hashes[sel])
    return pd.Series(dup, index=raw.index)


def _later_repeats(h: np.ndarray) -> np.ndarray:
    """``duplicated(keep="first")`` by a stable sort: every repeat after a value's first place
    (a sort needs a third of the memory of pandas' hash table, issue 14 point 7)."""
    order = np.argsort(h, kind="stable")
    s = h[order]
    repeat = s[1:] == s[:-1]
    del s
    out = np.zeros(len(h), dtype=bool)
    out[order[1:][repeat]] = True
    return out


#: rows hashed at a time by :func:`_duplicates`
_HASH_ROWS = 20_000


def _arrival_column(cols: dict[str, str], file: str) -> str:
    c = cols.get("arrival_datetime") or cols.get("arrival_date")
    if c is None:
        raise FileRejected(
            "no arrival date column found (e.g. Arrival_Date, Date seen, Der_EC_Arrival_Date_Time)",
            file=file,
            field="arrival_date",
        )
    return c


def _place_is_text(raw: pd.DataFrame, cols: dict[str, str]) -> bool:
    """A "place" column that is mostly free text (no location description column)."""
    if "location_text" in cols:
        return False
    tcol = cols.get("location_type_code") or cols.get("place")
    if tcol is None:
        return False
    _lt, miss, unrec = P.map_codes(raw[tcol], "location_type")
    known = int((~miss).sum())
    return bool(known and unrec.sum() > 0.5 * known)


def _month_numbers(dates: pd.Series) -> pd.Series:
    """YYYYMM as integers: a month per row without a string per row (``strftime`` on a whole
    upload's dates builds one Python string per row)."""
    return dates.dt.year * 100 + dates.dt.month


def resolve_period(
    raw: pd.DataFrame,
    cols: dict[str, str],
    layout: Layout,
    option: str | None,
    arr_date: pd.Series,
    file: str,
) -> str:
    """The file's month: a period column, the option, else the arrival dates' majority."""
    opt = option.strip() if option else None
    col_period = None
    col_name = None
    for fname in ("period_start", "period"):
        c = cols.get(fname)
        if c is None:
            continue
        vals = raw[c].str.strip()
        uniq = sorted(set(vals[vals != ""].unique().tolist()))
        if not uniq:
            continue
        months = {period_of(u) for u in uniq}
        if None in months:
            raise FileRejected("reporting period is not a valid date", file=file, field=c)
        if len(months) > 1:
            raise FileRejected("more than one reporting period in one file", file=file, field=c)
        col_period, col_name = months.pop(), c
        break
    if col_period and opt and col_period != opt:
        raise FileRejected(
            f"the file's reporting period is {col_period} but it was filed as {opt} (--period)",
            file=file,
            field=col_name,
        )
    if col_period:
        return col_period
    if opt:
        return opt
    months = _month_numbers(arr_date[arr_date.notna()])
    if "arrival" in layout.period_from and len(months):
        ym = int(months.value_counts().idxmax())
        return f"{ym // 100:04d}-{ym % 100:02d}"
    raise FileRejected(
        "period missing: the file has no reporting period and no valid arrival "
        "dates; give --period YYYY-MM",
        file=file,
        field="period",
    )


#: the fields whose raw columns :func:`plan_file` and the file-level warnings read
PLAN_FIELDS = (
    "department",
    "period_start",
    "period",
    "arrival_datetime",
    "arrival_date",
    "source_key",
    "location_type_code",
    "place",
    "age_band",
)


def plan_columns(cols: dict[str, str], layout: Layout) -> list[str]:
    """The raw columns the whole-file pass reads (all a two-pass read keeps of every row)."""
    fields = list(PLAN_FIELDS)
    filt = layout.filter_field or ("intent" if "intent" in cols else None)
    if filt:
        fields += [filt, "location_text"]
    return [cols[f] for f in fields if f in cols]


def plan_file(
    raw: pd.DataFrame,
    cols: dict[str, str],
    layout: Layout,
    *,
    file: str,
    department: str | None = None,
    period: str | None = None,
    aliases: dict[str, str] | None = None,
    fallback_department: str | None = None,
) -> FilePlan:
    """The whole-file decisions; raises :class:`FileRejected` for a file-level problem."""
    if period is not None and not PERIOD_RE.match(period.strip()):
        raise FileRejected("--period must be YYYY-MM", file=file, field="--period")
    dept = resolve_department(raw, cols, layout, department, file, aliases, fallback_department)
    arr_col = _arrival_column(cols, file)
    keep, notes = _keep_rows(raw, cols, layout)
    kept = raw if bool(keep.all()) else raw[keep]
    arr, inv = P.parse_dates(
        kept[arr_col], dayfirst=layout.dayfirst, formats=tuple(layout.date_formats)
    )
    if "source_key" in cols:  # judged on the whole column: a share of its keys decides
        key = kept[cols["source_key"]].astype("string").str.strip()
        rows = pd.Series(kept.index + 1, index=kept.index)
        refuse_nhs_number_keys(key, rows, file=file, field=cols["source_key"])
        del key, rows  # a copy of the column: not kept for the rest of the plan
    per = resolve_period(kept, cols, layout, period, arr, file)
    per_col = cols.get("period_start") or cols.get("period") or ("--period" if period else arr_col)
    plausible.check_period(per, file=file, field=per_col)
    # the majority rule: valid arrival dates (not in the future) mostly in another month
    valid = arr.notna() & ~plausible.future(arr)
    outside = valid & (_month_numbers(arr) != int(per[:4]) * 100 + int(per[5:7]))
    if valid.any() and outside.sum() > 0.5 * valid.sum():
        raise FileRejected(
            "the period contradicts the arrival dates (most rows fall in another month)",
            file=file,
            field=arr_col,
        )
    return FilePlan(
        department=dept,
        period=per,
        keep=keep,
        duplicate=_duplicates(kept, cols),
        arrival=arr,
        arrival_invalid=inv,
        place_is_text=_place_is_text(kept, cols),
        skipped=int((~keep).sum()),
        notes=notes,
        per_col=per_col,
        arr_col=arr_col,
    )
