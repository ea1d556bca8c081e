"""Context a text gives beyond its gazetteer spans, and what it names that was not found:
both judged by the mention stage's evidence, so that narrative words are neither context nor
a lost venue."""

from __future__ import annotations

import re

import numpy as np

from istvhub.geocode.candidates import GENERIC, STOPWORDS, PlaceIndex, SpanHit
from istvhub.geocode.cues import ROAD_WORDS, STATION_CUES, VENUE_CUES
from istvhub.geocode.explain import Loc
from istvhub.geocode.lexicon import Lexicon, lexicon_of
from istvhub.geocode.mentions import LEAD_WORDS
from istvhub.geocode.postcodes import PostcodeHit
from istvhub.geocode.rank import Context

#: words that describe a place without naming one ("o/s the chicken shop", "bus stop")
_DESCRIPTIVE = ROAD_WORDS | VENUE_CUES | STATION_CUES | GENERIC | LEAD_WORDS
_FUNCTION = frozenset("the a an of and at in on by to from or".split())


_OUTWARD = re.compile(r"^[a-z]{1,2}\d$")


def text_contexts(ix: PlaceIndex, tokens: list[str], chosen: list[SpanHit]) -> list[Context]:
    """Context the text gives that is no gazetteer span: a district written without its
    letter ("ec4", "wc1": London's central districts are EC4A, EC4M...), whose points stand
    for it, so a street just outside ("milk st ec4": Milk Street is EC2V) is still the near
    one; and "city" outside any place name, which means the City of London."""
    out: list[Context] = []
    inside = {
        k
        for c in chosen
        if sum(t not in ("the", "of", "and") for t in c.key.split()) >= 2
        for k in range(c.start, c.end)
    }  # "city road" is a name; "the city" is the City
    for k, t in enumerate(tokens):
        if k in inside:
            continue
        if _OUTWARD.match(t) and t not in ix.postcode:
            subs = [d for d in ix.districts if len(d) == len(t) + 1 and d.startswith(t)]
            rows = [ix.postcode[d] for d in subs if d[-1].isalpha()]
            if rows:
                r = np.asarray(rows)
                out.append(Context("postcode_district", t.upper(), ix.x[r], ix.y[r], 1500.0))
        elif t == "city":
            rows = [int(i) for i in ix.by_key.get("city of london", ()) if ix.etype[i] == "borough"]
            if rows:
                r = np.asarray(rows)
                out.append(
                    Context(
                        "borough",
                        "City of London (borough)",
                        ix.x[r],
                        ix.y[r],
                        5000.0,
                        borough="City of London",
                    )
                )
    return out


def _name_like(lex: Lexicon, t: str) -> bool:
    """A word that may be part of a name: not a connector, a place-type word, an English
    narrative word, nor a typo of one ("somwhere")."""
    return (
        len(t) >= 3
        and t.isalpha()
        and t not in STOPWORDS
        and t not in _DESCRIPTIVE
        and not lex.is_narrative(t)
        and not lex.near_english(t)
    )


def _venue_span_name(ix: PlaceIndex, s: SpanHit) -> str:
    """The gazetteer name of a span that names a venue in two content words or more."""
    if sum(w not in _FUNCTION for w in s.key.split()) < 2:
        return ""
    rows = [i for i in s.ids if ix.etype[i] == "venue"]
    return str(ix.name[rows[0]]) if rows else ""


def named_elsewhere(
    ix: PlaceIndex, tokens: list[str], area: SpanHit, other: list[SpanHit], residual: str
) -> str:
    """What else the text names besides the area, as a place rather than narrative: a venue
    span of its own, or unexplained words that are no English narrative ("crown and anchr").
    Returned as the gazetteer's name or a fixed phrase (never the input text)."""
    for s in other:
        if s.start < area.start or s.end > area.end:
            name = _venue_span_name(ix, s)
            if name:
                return name
    lex = lexicon_of(ix)
    if sum(len(t) for t in residual.split() if _name_like(lex, t)) >= 5:
        return "a name not in the gazetteer"
    return ""


def unexplained_name(
    ix: PlaceIndex,
    tokens: list[str],
    corrected: list[str],
    spans: list[SpanHit],
    pcs: list[PostcodeHit],
    loc: Loc,
) -> str:
    """What the text names besides the answer, found nowhere near it: a venue span the
    answer left aside, or words no mention explains that look like a name (not narrative,
    not a place-type word). A fixed phrase or a gazetteer name, never the input text."""
    answer = [s for s in spans if loc.row in s.ids or ix.name[s.ids[0]] == loc.name]
    for s in spans:
        name = _venue_span_name(ix, s)
        if (
            name
            and name != loc.name
            and not any(a.start < s.end and s.start < a.end for a in answer)
        ):
            return name  # a venue named apart from the answer's own mention
    used = {k for s in spans for k in range(s.start, s.end)}
    used |= {k for p in pcs for k in range(p.start, p.end)}
    lex = lexicon_of(ix)
    words = [
        t
        for k, t in enumerate(tokens)
        if k not in used and corrected[k] not in _DESCRIPTIVE and _name_like(lex, t)
    ]
    return "a name" if sum(len(t) for t in words) >= 5 else ""
