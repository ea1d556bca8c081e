"""Value evidence for recognising columns: what the values under a header say it carries (a
location-type vocabulary, ages 0-110, M/F/U, street texts, dates, times). Split from
:mod:`istvhub.ingest.recognise`, which combines these scores with the header's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from istvhub.ingest import parsing as P
from istvhub.ingest.ages import years_number

#: values profiled per column (the first non-missing ones)
SAMPLE = 2000

_PLACE_WORDS = re.compile(
    r"\b(?:road|rd|street|st|lane|ln|avenue|ave|way|close|cl|drive|dr|park|station|stn|square|sq|"
    r"place|pl|court|ct|hill|high|market|bridge|gardens?|grove|terrace|crescent|row|walk|"
    r"junction|jct|j/w|outside|o/s|near|nr|opposite|opp|corner|pub|club|bar|estate|flat|"
    r"house|home|bus|tube|school|shop|tesco|mcdonalds|common|green|broadway|parade|hospital|"
    r"yard|mews|wharf|embankment|circus|gate|end|rise|vale|hall|centre|center|"
    r"[a-z]{1,2}\d{1,2}[a-z]?(?: ?\d[a-z]{2})?)\b",
    re.I,
)
_BAND_RE = re.compile(
    r"^\s*(?:\d{1,3}\s*(?:-|–|to)\s*\d{1,3}|\d{1,3}\s*\+|(?:under|over|<|>|>=|u)\s*\d{1,3}"
    r"|\d{1,3}\s*(?:and|or)\s*(?:over|above|under|older))\s*(?:years?|yrs?)?\s*$",
    re.I,
)


@dataclass
class _Profile:
    values: pd.Series  # non-missing stripped values (a sample)
    n: int
    uniq: pd.Series  # value counts
    memo: dict[str, float] = field(default_factory=dict)  # value scores, each computed once

    @classmethod
    def of(cls, s: pd.Series) -> _Profile:
        raw, missing = P._clean(s)
        v = raw[~missing].astype(str).head(SAMPLE)
        return cls(v, len(v), v.value_counts())


def _share(p: _Profile, ok: dict[str, bool]) -> float:
    if not p.n:
        return 0.0
    return float(sum(c for u, c in p.uniq.items() if ok.get(str(u))) / p.n)


def _vocab_share(p: _Profile, family: str) -> float:
    """Share of values in the family's code lists; numbers-only matches count for little (a
    column of 01..07 could be any coded item), and a free-text column (many distinct values) for
    nothing."""
    if not p.n or len(p.uniq) > max(40, 0.3 * p.n):
        return 0.0
    lists = [P.load_code_list(n) for n in P.FAMILY_LISTS[family]]
    hit_text: dict[str, bool] = {}
    hit_num: dict[str, bool] = {}
    for u in p.uniq.index:
        u = str(u)
        found = any(cl.lookup(u) for cl in lists)
        numeric = bool(re.fullmatch(r"\d{1,3}", u))
        hit_text[u] = found and not numeric
        hit_num[u] = found and numeric
    return _share(p, hit_text) + 0.4 * _share(p, hit_num)


#: a value score that neither carries a column nor sinks its header (see :func:`combine`)
_NEUTRAL = 0.4


def _sex_share(p: _Profile) -> float:
    if not p.n or len(p.uniq) > 12:
        return 0.0
    cl = P.load_code_list("sex")
    mapped = {str(u): cl.lookup(str(u)) for u in p.uniq.index}
    targets = {v for v in mapped.values() if v}
    share = _share(p, {u: bool(v) for u, v in mapped.items()})
    if not {"male", "female"} <= targets:
        # one sex only (a small month, all M): no evidence either way, so the header decides
        return _NEUTRAL if share >= 0.9 and targets & {"male", "female"} else 0.0
    numeric = all(re.fullmatch(r"\d", u) for u in mapped)
    return share * (0.7 if numeric else 0.95)


def _age_share(p: _Profile) -> float:
    if not p.n:
        return 0.0
    num = years_number(p.values)
    ok = num.notna() & (num >= 0) & (num <= 110) & (num == num.round())
    if num[ok].nunique() < 6:
        # a small file has few distinct ages: whole numbers 0-110 do not contradict the header
        return _NEUTRAL if p.n < 30 and ok.mean() >= 0.9 else 0.0
    return 0.9 * float(ok.mean())


def _band_share(p: _Profile) -> float:
    if not p.n or len(p.uniq) > 30:
        return 0.0
    return 0.9 * _share(p, {str(u): bool(_BAND_RE.match(str(u))) for u in p.uniq.index})


def _place_text_share(p: _Profile) -> float:
    """Short texts, many distinct, most with a street or place word: a location description."""
    if p.n < 3:
        return 0.0
    v = p.values
    lens = v.str.len()
    if lens.median() < 4 or lens.median() > 120:
        return 0.0
    if len(p.uniq) < 0.25 * p.n and len(p.uniq) < 15:
        return 0.0  # a pick list, not free text
    if v.str.fullmatch(r"[\d\s:/.-]+").mean() > 0.3:
        return 0.0  # numbers or dates
    placey = v.str.contains(_PLACE_WORDS).mean()
    return float(min(1.0, 0.3 + placey))


def _date_share(p: _Profile) -> float:
    if not p.n or p.values.head(300).str.contains(r"\d").mean() < 0.5:
        return 0.0
    _dt, inv = P.parse_dates(p.values.head(300))
    return float(1 - inv.mean())


def _time_share(p: _Profile) -> float:
    if not p.n:
        return 0.0
    _t, inv = P.parse_times(p.values.head(300), midnight_unknown=False)
    return float(1 - inv.mean())


_KIND = {
    "location_type_code": "location_type",
    "place": "location_type",
    "weapon_code": "weapon",
    "mechanism": "weapon",
    "arrival_date": "date",
    "arrival_datetime": "date",
    "incident_date": "date",
    "incident_datetime": "date",
    "arrival_time": "time",
    "incident_time": "time",
}


def value_score(fieldname: str, p: _Profile) -> float | None:
    """0..1 for fields whose values say what they are (memoised per kind of value)."""
    kind = _KIND.get(fieldname, fieldname)
    if kind not in p.memo:
        v = _value_score(fieldname, p)
        if v is None:
            return None
        p.memo[kind] = v
    return p.memo[kind]


def _value_score(fieldname: str, p: _Profile) -> float | None:
    """0..1 for fields whose values say what they are; None for fields they do not."""
    if fieldname == "location_type_code":
        return _vocab_share(p, "location_type")
    if fieldname in ("weapon_code", "mechanism"):
        return _vocab_share(p, "weapon")
    if fieldname == "place":
        return _vocab_share(p, "location_type")
    if fieldname == "sex":
        return _sex_share(p)
    if fieldname == "age":
        return _age_share(p)
    if fieldname == "age_band":
        return _band_share(p)
    if fieldname == "location_text":
        return _place_text_share(p)
    if fieldname in ("arrival_date", "arrival_datetime", "incident_date", "incident_datetime"):
        return _date_share(p)
    if fieldname in ("arrival_time", "incident_time"):
        return _time_share(p)
    return None
