"""Age bands from whatever a file sends: band spellings ("16 to 17 years", "Under 16", "65 and
over") and exact ages in years, mapped to the hub's bands; the exact age is never kept.

Why honest ranges: a band cut at other points (16-24) does not fit the hub's 16-17 and 18-24,
and moving it into either would invent ages; :func:`straddles` names the hub bands such a band
spans so the adapter records it as unknown and says why (issue 17).
"""

from __future__ import annotations

import re

import pandas as pd

from istvhub.ingest.parsing import _clean, _lookup
from istvhub.records import AGE_BANDS

_BANDS = [(0, 15), (16, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200)]
_BAND_LABELS = [b for b in AGE_BANDS if b != "unknown"]


def band_for_range(lo: float, hi: float) -> str | None:
    for (a, b), label in zip(_BANDS, _BAND_LABELS, strict=True):
        if a <= lo and hi <= b:
            return label
    return None


def band_range(v: str) -> tuple[int, int] | None:
    """The ages (lo, hi) an age-band spelling covers ("16-24", "Under 18", "65+", "30"), or None
    when it is no band; whether it fits one hub band is :func:`band_for_range`'s question."""
    t = v.strip().lower().replace("–", "-").replace("—", "-")
    t = re.sub(r"\s*(to|-)\s*", "-", t)
    t = re.sub(r"\s*(years?|yrs?|y/o|yo)\b", "", t).strip()
    if re.fullmatch(r"(under|<|u|less than|below)\s*-?(\d+)", t):
        n = int(re.findall(r"\d+", t)[0])
        return (0, n - 1) if n >= 1 else None
    m = re.fullmatch(r"(\d+)\s*(\+|plus|and over|or over|and above|\+ years)", t) or re.fullmatch(
        r"(?:over|>=|>|aged)\s*(\d+)\+?", t
    )
    if m:
        n = int(m.group(1))
        return (
            (n + (1 if t.startswith(">") and not t.startswith(">=") else 0), 200)
            if n <= 110
            else None
        )
    m = re.fullmatch(r"(\d+)-(\d+)", t)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        return (lo, hi) if lo <= hi else None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)", t)
    if m:
        age = float(m.group(1))
        return (int(age), int(age)) if 0 <= age <= 120 else None
    return None


def bands_spanned(lo: float, hi: float) -> list[str]:
    """The hub bands a range of ages overlaps (one for a band that fits, several when it
    straddles a cut-point, e.g. 16-24 -> 16-17, 18-24)."""
    return [lab for (a, b), lab in zip(_BANDS, _BAND_LABELS, strict=True) if a <= hi and lo <= b]


def _band_from_text(v: str) -> str | None:
    r = band_range(v)
    return band_for_range(*r) if r else None


def age_bands_from_text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Age band column (any common spelling) -> canonical band; returns (bands, unrecognised)."""
    raw, missing = _clean(s)
    table = {u: _band_from_text(u) for u in raw[~missing].unique() if u is not pd.NA}
    mapped = _lookup(raw, table)
    unrecognised = (~missing & mapped.isna()).astype(bool)
    return mapped.fillna("unknown").astype("string"), unrecognised


_YEARS_UNIT = re.compile(r"(?i)\s*(?:years?(?:\s+old)?|yrs?|y/?o|y)\.?$")


def years_number(s: pd.Series) -> pd.Series:
    """An age in years as a number: "34", "34.0", "34 yrs", "34y", "34 years old" (NaN when it
    is none); systems that print the unit still mean the number."""
    txt = s.astype("string").str.strip().str.replace(_YEARS_UNIT, "", regex=True)
    return pd.to_numeric(txt, errors="coerce")


def age_bands_from_years(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Exact age in years -> band; the exact age is never kept. Returns (bands, unrecognised)."""
    raw, missing = _clean(s)
    age = years_number(raw)
    ok = age.notna() & (age >= 0) & (age <= 120)
    bins = [-0.5, 15.999, 17.999, 24.999, 34.999, 44.999, 54.999, 64.999, 200]
    cut = pd.cut(age.where(ok), bins=bins, labels=_BAND_LABELS)
    bands = cut.astype("string").fillna("unknown")
    unrecognised = (~missing & ~ok).astype(bool)
    return bands, unrecognised


def straddles(value: str) -> list[str]:
    """The hub bands an age band spelling spans when it fits none of them ("16-24" -> 16-17,
    18-24); empty for a band that fits one, or a value that is no band."""
    r = band_range(value)
    if r is None or band_for_range(*r) is not None:
        return []
    return bands_spanned(*r)


def straddle_reason(value: str, spans: list[str]) -> str:
    """The row warning for an age band cut elsewhere (one text per band, so they count up)."""
    return (
        f"age band {value} straddles the hub bands {', '.join(spans)}; recorded as unknown "
        "(it cannot be placed in one of them without guessing)"
    )
