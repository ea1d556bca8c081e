"""Context a text gives beyond its gazetteer spans, and what it names that was not found:
both judged by the mention stage's evidence, so that narrative words are neither context nor
a lost venue."""

from __future__ import annotations

import re

import numpy as np

from istvhub.geocode.candidates import POI_TYPES, STOPWORDS, PlaceIndex, SpanHit
from istvhub.geocode.lexicon import lexicon_of
from istvhub.geocode.rank import Context


def named_elsewhere(
    ix: PlaceIndex, tokens: list[str], area: SpanHit, other: list[SpanHit], residual: str
) -> str:
    """What else the text names besides the area, as a place rather than narrative: a venue
    span of its own, or unexplained words that are no English narrative ("crown and anchr").
    Returned as the gazetteer's name or a fixed phrase (never the input text)."""
    for s in other:
        if s.start < area.start or s.end > area.end:
            if any(ix.etype[i] in POI_TYPES for i in s.ids) and len(s.key.split()) >= 2:
                return str(ix.name[s.ids[0]])
    lex = lexicon_of(ix)
    words = [t for t in residual.split() if t not in STOPWORDS and len(t) >= 3]
    if words and any(not lex.is_narrative(t) for t in words) and (sum(len(t) for t in words) >= 5):
        return "a name not in the gazetteer"
    return ""


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
