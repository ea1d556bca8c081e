"""Classify ED location text as home, unknown, outside_area or locatable, from phrase tables.

Home is never located, by design (DOMAIN.md): the patient's or anyone's home, flat, address,
"friends house", "pt's flat", "his mum's". A postcode next to a home word does not make the text
locatable: it is the home's postcode. "On his way home along X" is a journey, not a home.
Unknown covers refusals and non-answers (u/k, n/k, nfa, intoxicated, refused, "?"), bare
location types that name no place ("in the street", "at work") and *unnamed* custody or prison
(a custody suite somewhere: the place is not known). Outside area covers abroad, other cities
and towns beyond the London boundary. Decision on custody: a *named* London prison (HMP
Wandsworth, Pentonville, Belmarsh...) is a place in London and is located through
``data/gazetteer/geocode_places.csv``. City names inside London street or station names ("manchester
road", "liverpool street") are not outside area: the caller passes the gazetteer spans it found,
and phrases covered by a longer place name are ignored. Phrases live in
``data/gazetteer/home_unknown_phrases.csv`` and ``data/gazetteer/outside_area_phrases.csv`` (data).
"""

from __future__ import annotations

import csv
from collections.abc import Container
from functools import lru_cache
from pathlib import Path

from istvhub.core.config import GAZETTEER_TABLES_DIR
from istvhub.geocode.lexicon import LOG_EDIT, english_freq

#: people whose house/place is someone's home ("friends house", "his mums")
PERSON_WORDS = frozenset(
    "friend friends mate mates mum mums mother mothers mom moms dad dads father fathers "
    "parent parents partner partners girlfriend girlfriends boyfriend boyfriends gf gfs bf bfs "
    "wife wifes husband husbands son sons daughter daughters sister sisters brother brothers "
    "aunt aunts aunties auntie uncle uncles nan nans nana nanas gran grans grandma grandmas "
    "grandad grandads cousin cousins neighbour neighbours neighbor neighbors relative relatives "
    "family families ex exs his her their my our own someone someones somebody somebodys "
    "patient patients person persons mans womans acquaintance acquaintances carer carers "
    "stepdad stepdads stepmum stepmums fiance fiances a an".split()
)
POSSESSIVE = frozenset("his her their my our own at a pts patients someones".split())
#: "home" after these words is a journey, not the place ("walking home along old kent rd")
ON_THE_WAY = frozenset(
    "way walking walked going went heading headed travelling traveling "
    "cycling driving coming came back".split()
)
DWELLING_WORDS = frozenset("house home flat place address residence room bedroom".split())
_FILLERS = frozenset(
    "patient patients pt says said states stated reports reported was were is at in on the a "
    "of location place assault assaulted where happened not sure by unknown".split()
)


@lru_cache(maxsize=4)
def load_phrases(path: str | None = None) -> dict[str, str]:
    """phrase -> category from the home/unknown and outside-area tables."""
    out: dict[str, str] = {}
    files = (
        [Path(path)]
        if path
        else [
            GAZETTEER_TABLES_DIR / "home_unknown_phrases.csv",
            GAZETTEER_TABLES_DIR / "outside_area_phrases.csv",
        ]
    )
    for p in files:
        with p.open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                out[r["phrase"].strip().lower()] = r["category"].strip()
    return out


UNKNOWN_WORDS = frozenset(
    "unknown known not sure unsure where happened patient pt says said states unclear".split()
)


@lru_cache(maxsize=1)
def _phrase_vocab() -> tuple[str, ...]:
    return tuple(sorted({t for p in load_phrases() for t in p.split() if len(t) >= 4}))


@lru_cache(maxsize=50_000)
def _phrase_correct(tok: str) -> str:
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    max_d = 1 if len(tok) <= 7 else 2  # "brixton" must not become "brighton"
    hit = process.extractOne(tok, _phrase_vocab(), scorer=OSA.distance, score_cutoff=max_d)
    if not hit:
        return tok
    # an English word is read as written unless the phrase word, less the cost of the edits,
    # is likelier: "sent" is not a typo of "kent", nor "come" of "home", nor "males" of "wales"
    word, d = hit[0], int(hit[1])
    en = english_freq(tok)
    if en > 0.0 and english_freq(word) * 10.0 ** (LOG_EDIT * d) <= en:
        return tok
    return word


def correct_phrase_tokens(tokens: list[str], known: Container[str] | None = None) -> list[str]:
    """Typo tolerance for the phrase tables ("unkown", "readong festival", "essx"): tokens that
    are neither a phrase word nor a known place word are matched to the phrase vocabulary."""
    vocab = set(_phrase_vocab())
    known = known if known is not None else set()
    out = []
    for t in tokens:
        if len(t) < 4 or t in vocab or t in known or not t.isalpha():
            out.append(t)
        else:
            out.append(_phrase_correct(t))
    return out


@lru_cache(maxsize=1)
def boundary_towns() -> frozenset[str]:
    """Outside-area towns whose postcode districts straddle the London boundary (kind
    ``boundary_town`` in ``outside_area_phrases.csv``): beside them, a London postcode district
    ("epsom high street kt19") is no proof the place is in London."""
    with (GAZETTEER_TABLES_DIR / "outside_area_phrases.csv").open(encoding="utf-8") as fh:
        return frozenset(
            r["phrase"].strip().lower()
            for r in csv.DictReader(fh)
            if (r.get("kind") or "").strip() == "boundary_town"
        )


def names_boundary_town(tokens: list[str], covered: set[int] | None = None) -> bool:
    """True when the text names a boundary town outside any London place name it contains."""
    covered = covered or set()
    towns = boundary_towns()
    return any(
        " ".join(tokens[i:j]) in towns and not any(k in covered for k in range(i, j))
        for i, j, c in _phrase_hits(tokens)
        if c == "outside_area"
    )


def _phrase_hits(tokens: list[str]) -> list[tuple[int, int, str]]:
    table = load_phrases()
    hits = []
    n = len(tokens)
    for i in range(n):
        for j in range(min(n, i + 4), i, -1):
            cat = table.get(" ".join(tokens[i:j]))
            if cat:
                hits.append((i, j, cat))
                break
    return hits


def is_home(tokens: list[str], covered: set[int] | None = None) -> bool:
    """Someone's dwelling: 'home', 'flat', 'address'...; 'house'/'place' only after a person.
    Home words inside a gazetteer name ("the kitchen" bar, "home park") do not count unless a
    person word comes before them ("his flat")."""
    covered = covered or set()
    for i, t in enumerate(tokens):
        if t == "home" and (
            (i and tokens[i - 1] in ON_THE_WAY)
            or (i + 1 < len(tokens) and tokens[i + 1] in ("from",))
        ):
            tokens = tokens[:i] + ["_"] + tokens[i + 1 :]  # "on his way home": a journey
            continue
        if t in ("house", "place", "room", "houses"):
            prev = tokens[i - 1] if i else None
            if prev is None and len(tokens) <= 2:
                return True
            if prev in PERSON_WORDS or (prev in ("the", "a") and i <= 2 and len(tokens) <= 4):
                return True
            if i + 1 < len(tokens) and tokens[i + 1] == "party":
                return True
        elif (
            t.endswith("s")
            and t[:-1] in ("friend", "mum", "mate", "dad", "nan", "partner")
            and i == len(tokens) - 1
            and i > 0
            and tokens[i - 1] in POSSESSIVE
        ):
            return True  # "at his mums"
    for i, j, cat in _phrase_hits(tokens):
        if cat != "home":
            continue
        if tokens[i:j] == ["flats"] and not _possessed(tokens, i) and len(tokens) > 2:
            continue  # "near the flats": a block of flats is a building, not the home
        inside = all(k in covered for k in range(i, j))
        if not inside or (i > 0 and tokens[i - 1] in PERSON_WORDS - {"a", "an"}):
            return True
    return False


def _possessed(tokens: list[str], i: int) -> bool:
    """Someone's: "his flats", "pts mums flat" (a person or possessive word before)."""
    return i > 0 and tokens[i - 1] in (PERSON_WORDS | POSSESSIVE) - {"a", "an", "at"}


def unknown_hits(tokens: list[str], covered: set[int] | None = None) -> bool:
    """True when an unknown phrase stands outside any London place name."""
    covered = covered or set()
    return any(
        c == "unknown" and not any(k in covered for k in range(i, j))
        for i, j, c in _phrase_hits(tokens)
    )


def outside_hits(tokens: list[str], covered: set[int] | None = None) -> list[tuple[int, int]]:
    """Token ranges of outside-area phrases that are not part of a London place name."""
    covered = covered or set()
    return [
        (i, j)
        for i, j, c in _phrase_hits(tokens)
        if c == "outside_area" and not any(k in covered for k in range(i, j))
    ]


def classify_tokens(tokens: list[str], covered: set[int] | None = None) -> str:
    """'home' | 'unknown' | 'outside_area' | 'locatable' for normalised tokens.

    ``covered`` holds token positions inside gazetteer place names (London streets, stations,
    areas): unknown and outside-area phrases there are part of a name, not a verdict.
    """
    words = [t for t in tokens if t not in ("/", ",")]
    if not words or all(not any(c.isalnum() for c in t) for t in words):
        return "unknown"
    covered = covered or set()
    if is_home(tokens, covered):
        return "home"
    table = load_phrases()
    whole = " ".join(words)
    if table.get(whole) == "unknown":
        return "unknown"
    hits = [
        (i, j, c) for i, j, c in _phrase_hits(tokens) if not any(k in covered for k in range(i, j))
    ]
    if any(c == "outside_area" for _, _, c in hits):
        return "outside_area"
    # unknown if nothing but unknown phrases and fillers remain
    rest = set(range(len(tokens)))
    for i, j, c in hits:
        if c == "unknown":
            rest -= set(range(i, j))
    if any(c == "unknown" for _, _, c in hits) and all(
        tokens[k] in _FILLERS or tokens[k] in ("/", ",") for k in rest
    ):
        return "unknown"
    return "locatable"
