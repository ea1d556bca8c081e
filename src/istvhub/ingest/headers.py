"""Tolerant header matching: case, spaces, underscores, punctuation, camelCase, word order, BOMs,
common abbreviations and small typos are all ignored, so "Assault_Date", "assault date",
"AssaultDate", "Date of assault" and "Asault Date" mean the same field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_ALNUM = re.compile(r"[a-z0-9]+")
#: Abbreviations seen in extract headers -> the word they stand for.
TOKEN_SYNONYMS = {
    "dt": "date",
    "dte": "date",
    "tm": "time",
    "hrs": "time",
    "desc": "description",
    "descr": "description",
    "loc": "location",
    "locn": "location",
    "no": "number",
    "num": "number",
    "nbr": "number",
    "nr": "number",
    "ident": "identifier",
    "id": "identifier",
    "addr": "address",
    "yrs": "years",
    "arr": "arrival",
    "attend": "attendance",
    "att": "attendance",
    "inc": "incident",
    "dept": "department",
    "org": "organisation",
    "organization": "organisation",
    "grp": "group",
    "cd": "code",
    "ref": "reference",
    "refno": "reference",
    "datetime": "date time",
    "timestamp": "date time",
    "typ": "type",
    "snomedct": "snomed ct",
    "dob": "dob",
    "mech": "mechanism",
    "wpn": "weapon",
    "cat": "category",
    "plc": "place",
    "inj": "injury",
    "arrv": "arrival",
}


def _extra_words() -> dict[str, str]:
    """Non-English header words (data: ``istvhub/data/header_words.toml``)."""
    import tomllib
    from importlib import resources

    raw = tomllib.loads(
        resources.files("istvhub.data").joinpath("header_words.toml").read_text("utf-8")
    )
    return {k.lower(): str(v) for table in raw.values() for k, v in table.items()}


TOKEN_SYNONYMS.update({k: v for k, v in _extra_words().items() if k not in TOKEN_SYNONYMS})
STOPWORDS = frozenset(
    {
        "of",
        "the",
        "a",
        "an",
        "at",
        "did",
        "it",
        "to",
        "and",
        "by",
        "s",
        "was",
        "is",
        "in",
        "on",
        "for",
    }
)


def tokens(header: str) -> list[str]:
    """Lower-case word tokens of a header (camelCase split, punctuation and BOM dropped)."""
    h = str(header).replace("\ufeff", "").strip()
    h = _CAMEL2.sub(r"\1 \2", _CAMEL1.sub(r"\1 \2", h))
    out: list[str] = []
    for t in _ALNUM.findall(h.lower()):
        t = TOKEN_SYNONYMS.get(t, t)
        out.extend(t.split())
    return out


@dataclass(frozen=True)
class HeaderKey:
    concat: str  # all tokens joined: "assaultdate"
    bag: str  # sorted content tokens: "assault date"

    @classmethod
    def of(cls, header: str) -> HeaderKey:
        return _header_key(header)


@lru_cache(maxsize=16_384)
def _header_key(header: str) -> HeaderKey:
    """Memoised: every upload keys the same few hundred synonyms again (issue 16, fixed cost)."""
    t = tokens(header)
    content = [x for x in t if x not in STOPWORDS] or t
    return HeaderKey("".join(t), " ".join(sorted(set(content))))


def match_score(a: HeaderKey, b: HeaderKey) -> float:
    """100 exact, 98 same words in any order, else a typo-tolerant ratio (0 when too short)."""
    if not a.concat or not b.concat:
        return 0.0
    if a.concat == b.concat:
        return 100.0
    if a.bag == b.bag:
        return 98.0
    if min(len(a.concat), len(b.concat)) < 6:
        return 0.0
    r = fuzz.ratio(a.concat, b.concat)
    return r if r >= 90 else 0.0


def best_assignment(headers: list[str], wanted: dict[str, list[tuple[str, int]]]) -> dict[str, str]:
    """Assign each field at most one header and each header at most one field.

    ``wanted`` maps field -> [(spelling, priority)], priority 0 for a layout's own names and 1
    for the shared synonyms. Best scores win first; ties go to the layout's own names.
    Memoised per process: a department sends the same headers every month and the all-pairs
    scoring cost ~30 ms per file (issue 16: 24,000 files).
    """
    key = tuple((f, tuple(sp)) for f, sp in wanted.items())
    return dict(_best_assignment(tuple(headers), key))


@lru_cache(maxsize=4_096)
def _best_assignment(
    headers: tuple[str, ...], wanted: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
) -> tuple[tuple[str, str], ...]:
    hkeys = [(h, HeaderKey.of(h)) for h in headers]
    cands: list[tuple[float, int, int, str, str]] = []
    for fieldname, spellings in wanted:
        for order, (sp, prio) in enumerate(spellings):
            k = HeaderKey.of(sp)
            for col_idx, (h, hk) in enumerate(hkeys):
                sc = match_score(hk, k)
                if sc > 0:
                    cands.append((-sc, prio, order * 1000 + col_idx, fieldname, h))
    cands.sort()
    used_h: set[str] = set()
    out: dict[str, str] = {}
    for _sc, _prio, _order, fieldname, h in cands:
        if fieldname in out or h in used_h:
            continue
        out[fieldname] = h
        used_h.add(h)
    return tuple(out.items())


def count_known(cells: list[str], vocabulary: list[HeaderKey]) -> int:
    """How many cells of a candidate header row look like known headers.

    Same test as ``match_score(cell, v) > 0`` for some ``v``, through an index of the vocabulary
    and a per-process memo of cells: departments send the same headers every month, and the
    all-pairs loop cost ~0.3 s per file (issue 16: 24,000 files)."""
    index = _vocab_index(tuple(vocabulary))
    return sum(1 for c in cells if c and str(c).strip() and _known(str(c), index))


@dataclass(frozen=True)
class _VocabIndex:
    concats: frozenset[str]
    bags: frozenset[str]
    long_concats: tuple[str, ...]  # the spellings long enough for a typo-tolerant match
    memo: dict[str, bool]


@lru_cache(maxsize=32)
def _vocab_index(vocabulary: tuple[HeaderKey, ...]) -> _VocabIndex:
    return _VocabIndex(
        frozenset(v.concat for v in vocabulary if v.concat),
        frozenset(v.bag for v in vocabulary if v.concat),
        tuple(sorted({v.concat for v in vocabulary if len(v.concat) >= 6})),
        {},
    )


def _known(cell: str, ix: _VocabIndex) -> bool:
    hit = ix.memo.get(cell)
    if hit is None:
        k = HeaderKey.of(cell)
        hit = bool(k.concat) and (
            k.concat in ix.concats
            or k.bag in ix.bags
            or (
                len(k.concat) >= 6
                and process.extractOne(
                    k.concat, ix.long_concats, scorer=fuzz.ratio, score_cutoff=90
                )
                is not None
            )
        )
        if len(ix.memo) < 200_000:
            ix.memo[cell] = hit
    return hit
