"""A kind of place with no name is no place: "police station", "park/open space", "o/s the pub",
"nightclub e14" say what sort of place it was, not which one, so they come out *unknown*.

The principle, rather than a list of phrases: every word the text uses for the place is either a
*kind word* or an ordinary English word that describes rather than names, and at least one is
a kind word. Kind words come from the gazetteer itself: the
words of the categories its venues, schools and hospitals are filed under ("pub", "nightclub",
"petrol station", "police", "shopping centre", "place of worship"...), the cue words that say a
text names an establishment or a station (``cues``), plus a few head nouns that the category
tags do not spell (``HEADS``). "Ordinary" is the Lexicon's evidence below
``DESCRIPTIVE_EVIDENCE``: "open", "area", "conference", "exhibition" describe. A word that
names a place ("tesco", "brixton", "koko") is neither, so "tesco" and "o/s koko nightclub"
stay located; and a span that names a place (``_names_a_place``: a station or area exactly,
a street with its type word, a venue name joining a describing word to a kind, "patch bar")
is a name, whatever its words are.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from istvhub.geocode.cues import ROAD_WORDS, STATION_CUES, VENUE_CUES
from istvhub.geocode.lexicon import lexicon_of, zipf

if TYPE_CHECKING:
    from istvhub.geocode.candidates import PlaceIndex, SpanHit

#: what an entry of these types is filed under is a kind of place
_KIND_TYPES = ("venue", "school", "hospital")
#: a category shared by fewer entries is a one-off label, not a kind
_MIN_ROWS = 3
#: kinds of place the gazetteer's category tags do not spell (its tags say "shop", "parking")
HEADS = frozenset(
    "supermarket subway underpass building recreation church mosque temple synagogue "
    "playground garage carpark hostel estate park".split()
)
#: a word is a plain description, not a name, below this place evidence (log10 odds; "open"
#: -0.4, "exhibition" 0.3, "pedestrian" 0.2; name words: "crown" 1.1, "tesco" 1.6)
DESCRIPTIVE_EVIDENCE = 0.35
#: category words this common in English are function words ("all-through" schools)
_FUNCTION_ZIPF = 5.5
#: words that carry no place: connectors and ED shorthand for "outside", "near"
_FILLER = frozenset(
    "o/s opp nr outside opposite near adjacent by at in on of the a an to from or and & / , - + "
    "inside front rear back behind next entrance side".split()
)
_WORD = re.compile(r"[a-z]+")
#: span types whose exact name is a name even when its words are kind words ("park royal",
#: "university college hospital": a hospital's full name is one place, not a kind)
_NAMED_TYPES = frozenset(("station", "area", "borough", "hospital"))


def kind_words(ix: PlaceIndex) -> frozenset[str]:
    """The index's kind words, built on first use from its categories."""
    kw = getattr(ix, "_kind_words", None)
    if kw is None:
        counts: dict[str, int] = {}
        for t, c in zip(ix.etype, ix.category, strict=True):
            if t in _KIND_TYPES and c:
                counts[str(c).lower()] = counts.get(str(c).lower(), 0) + 1
        words = {
            w
            for c, n in counts.items()
            if n >= _MIN_ROWS
            for w in _WORD.findall(c.replace("_", " "))
            if len(w) >= 3
        }
        words = {w for w in words if zipf(w) < _FUNCTION_ZIPF} | HEADS | VENUE_CUES | STATION_CUES
        kw = ix._kind_words = frozenset(words - ROAD_WORDS - {"home"})
    return kw


def _plain(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def _names_a_place(ix: PlaceIndex, tokens: list[str], s: SpanHit, kinds: frozenset[str]) -> bool:
    """Does this span name one place? A station, area or borough by its exact name; a street
    written with its own type word ("wheeler gdns", "the cut"); an exact venue name with a
    number ("station 31") or that joins a describing word to a kind ("patch bar", "joy cafe");
    an exact name whose words are all plain English ("open space", a shop so called in OSM) is
    a phrase, not a name."""
    last = tokens[s.end - 1]
    if last not in kinds and any(
        ix.etype[i] == "street" and str(ix.name[i]).lower().split()[-1] == last for i in s.ids
    ):
        return True
    if s.how != "exact":
        return False
    if any(ix.etype[i] in _NAMED_TYPES for i in s.ids):
        return True
    words = [t for t in tokens[s.start : s.end] if t not in _FILLER]
    if any(t.isdigit() for t in words):
        return True
    other = [t for t in words if t not in kinds and _plain(t) not in kinds]
    lex = lexicon_of(ix)
    return bool(other) and (
        len(other) < len(words) or any(lex.evidence(t) >= DESCRIPTIVE_EVIDENCE for t in other)
    )


#: more venues of one name than this and the name is a common label, not one place's name
_MAX_SAME_NAME = 20


def _categories(ix: PlaceIndex) -> frozenset[str]:
    """Every category phrase of the index ("petrol station", "community centre")."""
    cats = getattr(ix, "_category_phrases", None)
    if cats is None:
        cats = frozenset(
            str(c).lower().replace("_", " ") for c in ix.category[np.isin(ix.etype, _KIND_TYPES)]
        )
        ix._category_phrases = cats
    return cats


def _venue_in_district(
    ix: PlaceIndex, tokens: list[str], spans: list[SpanHit], taken: set[int]
) -> bool:
    """A venue's exact name of two or more kind words ("market tavern w1j") with the postcode
    district it stands in names that venue: the district singles out one of the few so named.
    A name that is a category phrase itself ("petrol station"), or that many venues share
    ("corner shop"), stays a kind: a district cannot make a label a name."""
    districts = {tokens[k] for k in taken if tokens[k] in ix.districts}
    if not districts:
        return False
    for s in spans:
        words = [t for t in tokens[s.start : s.end] if t not in _FILLER]
        if s.how != "exact" or len(words) < 2 or " ".join(words) in _categories(ix):
            continue
        rows = [i for i in s.ids if ix.etype[i] == "venue"]
        if 0 < len(rows) <= _MAX_SAME_NAME and any(
            str(ix.district[i]).lower() in districts for i in rows
        ):
            return True
    return False


def only_a_kind(
    ix: PlaceIndex, tokens: list[str], spans: list[SpanHit], taken: set[int]
) -> str | None:
    """The kind of place named (e.g. "police station") when the text names a kind and no
    place; None when any word or span names a place. ``taken``: tokens read as postcodes."""
    kinds = kind_words(ix)
    if any(_names_a_place(ix, tokens, s, kinds) for s in spans):
        return None
    if _venue_in_district(ix, tokens, spans, taken):
        return None
    lex = lexicon_of(ix)
    found = []
    for k, t in enumerate(tokens):
        if k in taken or t in _FILLER:
            continue
        if t.isdigit():
            return None  # "station 31", "kitchen 79": a number names one
        if not t.isalpha():
            continue
        if t in kinds or _plain(t) in kinds:
            found.append(t)
        elif t in ROAD_WORDS or lex.evidence(t) >= DESCRIPTIVE_EVIDENCE or zipf(t) <= 0:
            return None  # a name word, or a road's type word: some place is named
    return " ".join(found) or None
