"""Vectorised value parsers for ED extracts: code lists here, dates and times in
:mod:`~istvhub.ingest.dateparse` (re-exported from here, as before the split).

Every parser takes a pandas Series of strings and returns parsed values plus an ``invalid`` mask
(non-blank but unparseable), so that validation can quarantine rows by field without ever
touching a cell value in a message. Blank and "unknown"-like tokens are *missing*, not invalid.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from istvhub.ingest.dateparse import (  # noqa: F401  (re-exported: callers import them from here)
    DAYFIRST_FORMATS,
    ISO_FORMATS,
    MISSING_TOKENS,
    MONTHFIRST_FORMATS,
    _clean,
    parse_dates,
    parse_times,
    times_from_datetimes,
)

CODES_DIR = Path(__file__).resolve().parents[1] / "data" / "codes"


def norm_code(v: str) -> str:
    """Code key: lower case, no spaces/punctuation, numbers without leading zeros; a SNOMED id
    followed by its term (``52684005 |Assault|``) keeps the id."""
    t = v.strip().lower()
    m = re.match(r"^(\d{6,18})\b", t)
    if m:
        return m.group(1)
    t = re.sub(r"[^a-z0-9+]+", "", t)
    if t.isdigit():
        t = t.lstrip("0") or "0"
    return t


def norm_text(v: str) -> str:
    return re.sub(r"[^a-z0-9+]+", " ", v.lower()).strip()


@dataclass
class CodeList:
    """A code list CSV: ``code,description,<target>,source``; codes and descriptions both map."""

    name: str
    target: str
    mapping: dict[str, str] = field(default_factory=dict)

    def lookup(self, value: str) -> str | None:
        return self.mapping.get(norm_code(value)) or self.mapping.get("d:" + norm_text(value))


@lru_cache(maxsize=64)
def load_code_list(name: str, codes_dir: str | None = None) -> CodeList:
    path = Path(codes_dir or CODES_DIR) / f"{name}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        target = cols[2]
        cl = CodeList(name, target)
        for row in reader:
            val = (row.get(target) or "").strip()
            if not val:
                continue
            code = (row.get("code") or "").strip()
            if code:
                cl.mapping.setdefault(norm_code(code), val)
            desc = (row.get("description") or "").strip()
            if desc:
                cl.mapping.setdefault("d:" + norm_text(desc), val)
    return cl


@lru_cache(maxsize=8)
def load_keywords(name: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    path = CODES_DIR / f"{name}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        return tuple((re.compile(r["pattern"], re.I), r[cols[1]]) for r in reader if r["pattern"])


def keyword_lookup(value: str, keywords: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    for pat, target in keywords:
        if pat.search(value):
            return target
    return None


#: Code lists by the canonical target they produce, tried after the layout's own list.
FAMILY_LISTS = {
    "weapon": ("istv_mds_weapon", "pas_method", "snomed_mechanism", "weapon_forms"),
    "location_type": ("istv_mds_location", "pas_location", "snomed_place", "location_forms"),
    "sex": ("sex",),
    "intent": ("snomed_intent",),
}
FAMILY_KEYWORDS = {"weapon": "weapon_keywords", "location_type": "location_keywords"}
_INTENT_WORDS = (
    (re.compile(r"assault|violence|fight|attack|alleged|intentional(?! self)", re.I), "assault"),
    (re.compile(r"self", re.I), "self_harm"),
    (re.compile(r"accident|unintentional", re.I), "accident"),
)


def map_codes(
    s: pd.Series, family: str, primary: str | None = None, inline: dict[str, str] | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map raw values to canonical codes of ``family``.

    Order: inline map from a mapping TOML, the layout's code list, the other code lists of the
    family, then keyword rules on free text. Returns (mapped, missing mask, unrecognised mask);
    missing and unrecognised values map to "unknown". Works on unique values only.
    """
    raw, missing = _clean(s)
    lists = []
    if primary:
        lists.append(load_code_list(primary))
    lists += [load_code_list(n) for n in FAMILY_LISTS.get(family, ()) if n != primary]
    kw = load_keywords(FAMILY_KEYWORDS[family]) if family in FAMILY_KEYWORDS else ()
    inl = {norm_code(k): v for k, v in (inline or {}).items()}
    inl.update({"d:" + norm_text(k): v for k, v in (inline or {}).items()})
    table: dict[str, str | None] = {}
    for u in raw[~missing].unique():
        if u is pd.NA:
            continue
        val = inl.get(norm_code(u)) or inl.get("d:" + norm_text(u))
        for cl in lists:
            if val:
                break
            val = cl.lookup(u)
        if not val and family == "intent":
            val = next((t for p, t in _INTENT_WORDS if p.search(u)), None)
        if not val and kw:
            val = keyword_lookup(u, kw)
        table[u] = val
    mapped = _lookup(raw, table)
    unrecognised = (~missing & mapped.isna()).astype(bool)
    out = mapped.fillna("unknown").astype("string")
    return out, missing, unrecognised


def _lookup(raw: pd.Series, table: dict) -> pd.Series:
    """Dict lookup as an object Series (NaN where absent); hashed in C via Series.map."""
    obj = pd.Series(raw.to_numpy(dtype=object, na_value=None), index=raw.index, dtype=object)
    return obj.map(table).astype(object)


def derive_from_text(s: pd.Series, family: str) -> pd.Series:
    """Keyword-derived codes from free text (NA where nothing matched)."""
    raw, missing = _clean(s)
    kw = load_keywords(FAMILY_KEYWORDS[family])
    table = {u: keyword_lookup(u, kw) for u in raw[~missing].unique() if u is not pd.NA}
    return _lookup(raw, table).astype("string").where(~missing, pd.NA)
