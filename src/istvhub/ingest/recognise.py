"""Which column carries each ISTV item: header words *and* the values under them, with a score.

A layout nobody onboarded ("Place of Incident (Type)", "Sex (M/F)", Welsh/English headers) must
not lose an item silently (issue 17). Each (field, column) pair gets a header score (synonyms,
typo-tolerant match, or word rules such as "a place word and a type word"), a value score (values
from the location-type vocabulary are the type however the header is worded; integers 0-110 are
age in years; M/F/U, Male/Female, 1/2/9 are sex; short street and place texts are location text)
and a combined confidence. Assignment is greedy by confidence, one field per column. A key item
without a column at :data:`CONFIDENT` or above makes the file *need a mapping*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from istvhub.ingest import parsing as P
from istvhub.ingest.headers import STOPWORDS, HeaderKey, match_score, tokens
from istvhub.ingest.layouts import FIELDS, Layout, synonyms
from istvhub.ingest.valuescore import _Profile, value_score

#: a column at this confidence or above is taken without asking
CONFIDENT = 0.6

#: ISTV items whose absence holds a file, and the fields any one of which carries them
KEY_ITEMS: dict[str, tuple[str, ...]] = {
    "location_text": ("location_text",),
    "arrival_date": ("arrival_datetime", "arrival_date"),
    "incident_date": ("incident_datetime", "incident_date"),
    "weapon": ("weapon_code", "mechanism", "weapon_flags", "weapon_text"),
    "age": ("age", "age_band"),
    "sex": ("sex",),
    "location_type": ("location_type_code", "place"),
}
ITEM_WORDS = {
    "location_text": "location text",
    "arrival_date": "arrival date",
    "incident_date": "incident date",
    "weapon": "weapon",
    "age": "age or age band",
    "sex": "sex",
    "location_type": "location type",
}
#: fields of which a file uses one column only
_EXCLUSIVE = (
    {"arrival_datetime", "arrival_date"},
    {"weapon_code", "mechanism"},
    {"location_type_code", "place"},
)

_LOC = {"location", "place", "where", "scene", "venue", "address", "setting"}
_TYPE = {"type", "category", "class", "kind", "classification"}
_DESC = {"description", "text", "details", "free", "exact", "name", "other"}
_ARR = {"arrival", "arrived", "attendance", "attended", "seen", "registration", "registered"}
_ARR |= {"presentation", "visit", "admission", "booked", "check", "triage"}
_INC = {"incident", "injury", "injured", "assault", "assaulted", "event", "occurred", "attack"}
_WPN = {"weapon", "method", "mechanism", "means", "implement", "object", "weapons", "with"}
_BAND = {"band", "group", "range", "category", "bracket", "grp", "cohort"}
#: field -> (every group must be hit, no token of the last set may appear)
_RULES: dict[str, tuple[list[set[str]], set[str]]] = {
    "location_type_code": ([_LOC, _TYPE], _DESC),
    "location_text": ([_LOC], _TYPE | {"code", "snomed"} | _WPN),
    "age_band": ([{"age"}, _BAND], set()),
    "age": ([{"age"}], _BAND),
    "sex": ([{"sex", "gender"}], set()),
    "weapon_code": ([_WPN], _DESC | _LOC),
    "weapon_text": ([_WPN, _DESC], _LOC),
    "arrival_datetime": ([_ARR, {"date"}, {"time"}], _INC),
    "arrival_date": ([_ARR, {"date"}], _INC | {"time"}),
    "arrival_time": ([_ARR, {"time"}], _INC | {"date"}),
    "incident_datetime": ([_INC, {"date"}, {"time"}], _ARR | _LOC),
    "incident_date": ([_INC, {"date"}], _ARR | {"time"} | _LOC),
    "incident_time": ([_INC, {"time"}], _ARR | {"date"} | _LOC),
    "intent": ([{"intent"}], set()),
}
#: fields a column may be given on its values alone
_BY_VALUES = ("location_text", "location_type_code", "weapon_code", "age", "age_band", "sex")
_FLAG_VALUES = frozenset({"y", "n", "yes", "no", "1", "0", "true", "false", "x", "ie", "na"})


@dataclass
class Assignment:
    """One recognised column: ``how`` says what the score rests on."""

    field: str
    column: str
    score: float
    how: str  # layout | mapping | header | values | header and values


@dataclass
class Recognition:
    columns: dict[str, str]
    assignments: dict[str, Assignment] = field(default_factory=dict)
    #: weapon flag columns (one Y/N column per weapon) -> canonical weapon
    weapon_flags: dict[str, str] = field(default_factory=dict)
    #: best unconfident candidates per key item, for the proposed mapping
    candidates: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)
    #: key items the layout says the file does not have (an accepted mapping's ``absent``)
    absent: set[str] = field(default_factory=set)

    def missing_items(self) -> list[str]:
        """Key items with no confident column (and not declared absent)."""
        have = set(self.columns) | ({"weapon_flags"} if self.weapon_flags else set())
        return [
            item
            for item, fields in KEY_ITEMS.items()
            if item not in self.absent and not have & set(fields)
        ]


# --------------------------------------------------------------------------- header scores


def _parts(header: str) -> list[str]:
    """A bilingual or annotated header split into its parts ("Rhyw / Sex", "Age (years)")."""
    parts = [p for p in re.split(r"\s*[/|()\[\]\n]\s*|\s+-\s+", header) if p.strip()]
    return parts if len(parts) > 1 else []


def header_score(fieldname: str, header: str, spellings: list[str]) -> float:
    """0..1: how well ``header`` names ``fieldname`` (1 an exact synonym, 0.65-0.8 a word rule)."""
    hk = HeaderKey.of(header)
    best = 0.0
    for sp in spellings:
        sk = HeaderKey.of(sp)
        best = max(best, match_score(hk, sk) / 100)
        for part in _parts(header):
            best = max(best, 0.95 * match_score(HeaderKey.of(part), sk) / 100)
        if best >= 1.0:
            return 1.0
    rule = _RULES.get(fieldname)
    if rule is not None and best < 0.8:
        groups, banned = rule
        toks = {t for t in tokens(header) if t not in STOPWORDS}
        if toks and all(toks & g for g in groups) and not toks & banned:
            extra = toks - set().union(*groups)
            best = max(best, max(0.65, 0.8 - 0.05 * len(extra)))
    return best


def combine(h: float, v: float | None, n: int) -> float:
    """One confidence from header and value evidence. Values alone can carry a column; values
    that contradict the header (a "Sex" column of street names) sink it."""
    if v is None or n == 0:
        return h
    if v >= 0.5:
        return max(0.85 * v, 1 - (1 - h) * (1 - v)) if h > 0 else 0.85 * v
    if v < 0.3 and n >= 5:
        return 0.4 * h
    return 0.8 * h + 0.2 * v


def _weapon_flag(header: str, p: _Profile) -> str | None:
    """A Y/N column per weapon ("Weapon - Knife"): the canonical weapon it flags."""
    if not p.n or not set(p.uniq.index.str.lower()) <= _FLAG_VALUES:
        return None
    words = [t for t in tokens(header) if t not in {"weapon", "used", "y", "n", "flag", "yn"}]
    words = [t for t in words if t not in STOPWORDS and t not in {"method", "involved"}]
    if not words or not set(tokens(header)) & (_WPN | {"used", "involved", "flag"}):
        return None
    text = " ".join(words)
    for n in P.FAMILY_LISTS["weapon"]:
        hit = P.load_code_list(n).lookup(text)
        if hit:
            return hit
    return P.keyword_lookup(text, P.load_keywords("weapon_keywords"))


# --------------------------------------------------------------------------- assignment


def recognise(headers: list[str], frame: pd.DataFrame, layout: Layout) -> Recognition:
    """Columns for ``layout`` on this file: an onboarded layout keeps its own header mapping and
    only gains columns for key items it lacks; the generic layout is recognised in full."""
    fixed = layout.map_columns(headers) if layout.kind != "generic" else {}
    how = "mapping" if layout.kind == "mapping" else "layout"
    out = Recognition(dict(fixed))
    for f, c in fixed.items():
        out.assignments[f] = Assignment(f, c, 1.0, how)
    out.absent = set(getattr(layout, "absent", []) or [])
    out.weapon_flags = dict(getattr(layout, "weapon_flags", {}) or {})
    if layout.kind != "generic" and not out.missing_items():
        return out
    free = [h for h in headers if h not in fixed.values() and h not in out.weapon_flags]
    profiles = {h: _Profile.of(frame[h]) for h in free if h in frame.columns}
    wanted = layout.wanted() if layout.kind == "generic" else {}
    syn = synonyms()
    cands: list[tuple[float, int, str, str, str]] = []
    per_item: dict[str, list[tuple[str, str, float]]] = {}
    for f in FIELDS:
        if f in out.columns:
            continue
        spellings = [s for s, _p in wanted.get(f, [])] or syn.get(f, [])
        for order, h in enumerate(free):
            p = profiles[h]
            hs = header_score(f, h, spellings)
            if hs == 0 and f not in _BY_VALUES:
                continue  # dates and keys are never taken on their values alone
            vs = value_score(f, p)
            if hs == 0 and (f not in _BY_VALUES or not vs):
                continue
            conf = combine(hs, vs, p.n)
            kind = "header" if not vs or vs < 0.5 else ("header and values" if hs else "values")
            if vs is None and hs < 0.85:
                conf = min(conf, 0.55)  # header-only fields need a close header match
            cands.append((-conf, order, f, h, kind))
            for item, fields in KEY_ITEMS.items():
                if f in fields:
                    per_item.setdefault(item, []).append((f, h, round(conf, 2)))
    cands.sort()
    used = set(out.columns.values())
    for negc, _o, f, h, kind in cands:
        if -negc < CONFIDENT:
            break
        if f in out.columns or h in used:
            continue
        if any(f in g and g & set(out.columns) for g in _EXCLUSIVE):
            continue
        out.columns[f] = h
        out.assignments[f] = Assignment(f, h, round(-negc, 2), kind)
        used.add(h)
    if not ({"weapon_code", "mechanism"} & set(out.columns)):
        for h in free:
            if h in used:
                continue
            w = _weapon_flag(h, profiles[h])
            if w:
                out.weapon_flags[h] = w
    for item, lst in per_item.items():
        lst = [c for c in lst if c[1] not in used]
        out.candidates[item] = sorted(lst, key=lambda c: -c[2])[:3]
    return out


def flags_to_weapon(frame: pd.DataFrame, flags: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """One weapon per row from Y/N columns: the most serious flagged (firearm, sharp, glass,
    blunt, other, body part); returns (weapon text per row, mask of rows with several flags)."""
    order = ["firearm", "sharp", "glass", "blunt", "other", "body_part", "unknown"]
    yes = {
        c: frame[c].astype("string").str.strip().str.lower().isin(["y", "yes", "1", "true", "x"])
        for c in flags
    }
    out = pd.Series(pd.NA, index=frame.index, dtype="string")
    count = pd.Series(0, index=frame.index)
    for m in yes.values():
        count = count + m.fillna(False).astype(int)
    for w in reversed(order):
        for c, m in yes.items():
            if flags[c] == w:
                out = out.mask(m.fillna(False).astype(bool), w)
    return out, (count > 1)
