"""Vectorised date and time parsers for ED extracts (split from :mod:`istvhub.ingest.parsing`,
which re-exports every name here).

Every parser takes a pandas Series of strings and returns parsed values plus an ``invalid`` mask
(non-blank but unparseable), so that validation can quarantine rows by field without ever
touching a cell value in a message. Blank and "unknown"-like tokens are *missing*, not invalid.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

MISSING_TOKENS = frozenset(
    {
        "",
        "unknown",
        "unk",
        "n/k",
        "nk",
        "u/k",
        "uk",
        "not known",
        "null",
        "none",
        "na",
        "n/a",
        "-",
        "--",
        "- -",
        "nan",
        "nat",
        "?",
        "not recorded",
        "not stated",
        "blank",
        "99:99",
        "--:--",
    }
)

ISO_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d",
    "%Y%m%d %H:%M",
    "%Y%m%d%H%M",
)
DAYFIRST_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d/%m/%y",
    "%d/%m/%y %H:%M",
    "%d-%m-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%y",
    "%d %b %y",
    "%d-%B-%Y",
    "%d/%b/%Y",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%d %b %Y %H:%M",
)
MONTHFIRST_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
)
_EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_MIN_DATE = pd.Timestamp("1900-01-01")
_MAX_DATE = pd.Timestamp("2100-01-01")


def _try_formats(raw: pd.Series, fmts: tuple[str, ...], out: pd.Series, todo: pd.Series) -> None:
    """Parse the still-unparsed values with each format in turn (in place)."""
    for fmt in fmts:
        if not todo.any():
            break
        parsed = pd.to_datetime(raw[todo], format=fmt, errors="coerce")
        ok = parsed.notna() & (parsed >= _MIN_DATE) & (parsed < _MAX_DATE)
        if ok.any():
            idx = ok[ok].index
            out.loc[idx] = parsed[ok].astype("datetime64[ns]")
            todo.loc[idx] = False


def _clean(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Stripped string values and the mask of missing ones."""
    raw = s.astype("string").str.strip()
    low = raw.str.lower()
    missing = (raw.isna() | low.isin(MISSING_TOKENS)).fillna(True).astype(bool)
    return raw, missing


#: a column at least this long with at most half as many distinct values is parsed once per
#: value (a month of arrival dates holds a few thousand): the same answer, without a parsing
#: temporary per row (issue 14 point 7: the whole-file pass of a 50 MB upload)
_DISTINCT_ROWS = 50_000


def parse_dates(
    s: pd.Series, *, dayfirst: bool = True, formats: tuple[str, ...] = ()
) -> tuple[pd.Series, pd.Series]:
    """Datetimes (``datetime64[ns]``, NaT when missing) and the invalid mask.

    Tries the layout's own formats, then ISO, then day-first (UK) or month-first as the layout
    says, then the other order, then Excel serial numbers (days since 1899-12-30).
    """
    if len(s) >= _DISTINCT_ROWS:
        codes, uniq = pd.factorize(s)
        if 2 * len(uniq) <= len(s):
            u_out, u_inv = _parse_dates(
                pd.Series(uniq, dtype=s.dtype), dayfirst, formats, rows=codes
            )
            known = codes >= 0
            pos = np.where(known, codes, 0)
            out = pd.Series(u_out.to_numpy()[pos], index=s.index, dtype="datetime64[ns]")
            out[~known] = pd.NaT
            inv = pd.Series(u_inv.to_numpy()[pos] & known, index=s.index)
            return out, inv
    return _parse_dates(s, dayfirst, formats)


def _parse_dates(
    s: pd.Series, dayfirst: bool, formats: tuple[str, ...], rows: np.ndarray | None = None
) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_dates` on ``s``; ``rows``: ``s`` holds the distinct values of a column
    and ``rows`` the value of each of its rows (-1: missing), so the day/month order is still
    judged on the column's first rows, as when every row is parsed."""
    raw, missing = _clean(s)
    raw = raw.str.replace(r"(?:Z|[+-]00:?00| UTC| GMT)$", "", regex=True)  # UTC suffixes
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = ~missing
    _try_formats(raw, tuple(formats) + ISO_FORMATS, out, todo)
    if todo.any():
        # day/month order: the one that parses more of this column wins; ties follow the layout
        first, second = (
            (DAYFIRST_FORMATS, MONTHFIRST_FORMATS)
            if dayfirst
            else (MONTHFIRST_FORMATS, DAYFIRST_FORMATS)
        )
        if rows is None:
            sample = todo[todo].index[:500]
            rs = raw.loc[sample]
        else:  # the first 500 rows of the column still to do, by their values
            at = np.flatnonzero((rows >= 0) & todo.to_numpy(dtype=bool)[np.maximum(rows, 0)])
            rs = raw.iloc[rows[at[:500]]].reset_index(drop=True)
            sample = rs.index
        todo_a = pd.Series(True, index=sample)
        _try_formats(rs, first, pd.Series(pd.NaT, index=sample, dtype="datetime64[ns]"), todo_a)
        todo_b = pd.Series(True, index=sample)
        _try_formats(rs, second, pd.Series(pd.NaT, index=sample, dtype="datetime64[ns]"), todo_b)
        if int(todo_b.sum()) < int(todo_a.sum()):
            first, second = second, first
        _try_formats(raw, first + second, out, todo)
    if todo.any():
        vals = raw[todo]
        serial = vals.str.match(_EXCEL_SERIAL).fillna(False).astype(bool)
        if serial.any():
            num = pd.to_numeric(vals[serial], errors="coerce")
            good = num.between(20000, 80000)
            days = num[good]
            ts = _EXCEL_EPOCH + pd.to_timedelta(days.astype("float64"), unit="D")
            ts = ts.dt.round("s")
            out.loc[ts.index] = ts.astype("datetime64[ns]")
            todo.loc[ts.index] = False
    bad_range = out.notna() & ((out < _MIN_DATE) | (out >= _MAX_DATE))
    out[bad_range] = pd.NaT
    invalid = (~missing & out.isna()).astype(bool)
    return out, invalid


_TIME_RE = re.compile(
    r"^(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}[ t]|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4} )?"
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2})|\.(?P<m2>\d{2})(?!\d))(?:[:.](?P<s>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<ap>[ap]\.?m\.?)?$"
)
_HHMM_RE = re.compile(r"^(?P<h>\d{1,2})(?P<m>\d{2})$")
_AMPM_RE = re.compile(r"^(?P<h>\d{1,2})\s*(?P<ap>[ap])\.?m\.?$")
_FRACTION_RE = re.compile(r"^0?\.\d+$|^0$")


def parse_times(s: pd.Series, *, midnight_unknown: bool = True) -> tuple[pd.Series, pd.Series]:
    """``HH:MM:SS`` strings (NA when missing) and the invalid mask.

    Accepts ``HH:MM``, ``H:MM``, ``HH:MM:SS``, ``HH.MM``, ``HHMM``, am/pm, a datetime whose time is
    wanted, and Excel day fractions. ``00:00`` means "time not known" in ISTV practice when
    ``midnight_unknown`` is set.
    """
    raw, missing = _clean(s)
    low = raw.str.lower()
    h = pd.Series(np.nan, index=s.index)
    m = pd.Series(np.nan, index=s.index)
    sec = pd.Series(np.nan, index=s.index)
    todo = ~missing
    for fmt in ("%H:%M", "%H:%M:%S"):  # the common spellings, parsed in C
        if not todo.any():
            break
        parsed = pd.to_datetime(raw[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        if ok.any():
            idx = ok[ok].index
            h.loc[idx] = parsed[ok].dt.hour.astype("float64")
            m.loc[idx] = parsed[ok].dt.minute.astype("float64")
            sec.loc[idx] = parsed[ok].dt.second.astype("float64")
            todo.loc[idx] = False
    if todo.any():
        ex = low[todo].str.extract(_TIME_RE)
        ok = ex["h"].notna()
        hh = pd.to_numeric(ex["h"], errors="coerce")
        pm = ex["ap"].fillna("").str.startswith("p")
        am = ex["ap"].fillna("").str.startswith("a")
        hh = hh.where(~(pm & (hh < 12)), hh + 12).where(~(am & (hh == 12)), 0)
        idx = ok[ok].index
        h.loc[idx] = hh[ok]
        m.loc[idx] = pd.to_numeric(ex["m"].fillna(ex["m2"]), errors="coerce")[ok]
        sec.loc[idx] = pd.to_numeric(ex["s"], errors="coerce").fillna(0)[ok]
        todo.loc[idx] = False
    if todo.any():
        ex = low[todo].str.extract(_HHMM_RE)
        ok = ex["h"].notna()
        idx = ok[ok].index
        h.loc[idx] = pd.to_numeric(ex["h"], errors="coerce")[ok]
        m.loc[idx] = pd.to_numeric(ex["m"], errors="coerce")[ok]
        sec.loc[idx] = 0
        todo.loc[idx] = False
    if todo.any():
        ex = low[todo].str.extract(_AMPM_RE)
        ok = ex["h"].notna()
        hh = pd.to_numeric(ex["h"], errors="coerce")
        pm = ex["ap"] == "p"
        hh = hh.where(~(pm & (hh < 12)), hh + 12).where(~(~pm & (hh == 12)), 0)
        idx = ok[ok].index
        h.loc[idx] = hh[ok]
        m.loc[idx] = 0
        sec.loc[idx] = 0
        todo.loc[idx] = False
    if todo.any():
        vals = low[todo]
        frac = vals.str.match(_FRACTION_RE).fillna(False).astype(bool)
        if frac.any():
            secs = (pd.to_numeric(vals[frac], errors="coerce") * 86400).round()
            idx = secs.index
            h.loc[idx] = secs // 3600
            m.loc[idx] = (secs % 3600) // 60
            sec.loc[idx] = secs % 60
            todo.loc[idx] = False
    valid = h.notna() & m.notna() & (h < 24) & (m < 60) & (sec < 60) & (h >= 0)
    invalid = (~missing & ~valid).astype(bool)
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    if valid.any():
        hv = h[valid].astype(int).astype(str).str.zfill(2)
        mv = m[valid].astype(int).astype(str).str.zfill(2)
        sv = sec[valid].astype(int).astype(str).str.zfill(2)
        out.loc[valid[valid].index] = hv + ":" + mv + ":" + sv
    if midnight_unknown:
        out[out == "00:00:00"] = pd.NA
    return out, invalid


def times_from_datetimes(
    dt: pd.Series, has_time_text: pd.Series, *, midnight_unknown: bool = True
) -> pd.Series:
    """Time part of parsed datetimes as ``HH:MM:SS`` where the text carried a time."""
    out = pd.Series(pd.NA, index=dt.index, dtype="string")
    ok = dt.notna() & has_time_text
    if ok.any():
        out.loc[ok[ok].index] = dt[ok].dt.strftime("%H:%M:%S")
    if midnight_unknown:
        out[out == "00:00:00"] = pd.NA
    return out
