"""Run the stages for one distinct text: correct tokens -> find spans -> classify -> postcodes
-> decide (interpret) -> calibrate -> explain. No state outlives the call."""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz.distance import OSA

from istvhub.geocode.classify import (
    classify_tokens,
    correct_phrase_tokens,
    names_boundary_town,
    outside_hits,
    unknown_hits,
)
from istvhub.geocode.cues import MIN_LONDON_SECTOR_UNITS
from istvhub.geocode.decide import interpret
from istvhub.geocode.explain import REASONS, correction_result, empty_result, located_result
from istvhub.geocode.glue import unglue
from istvhub.geocode.kinds import only_a_kind
from istvhub.geocode.mentions import (
    correct_tokens,
    outside_is_narrative,
    place_mentions,
    says_unknown,
)
from istvhub.geocode.outside_units import outside_units
from istvhub.geocode.postcodes import PostcodeHit, find_postcodes
from istvhub.geocode.rank import EdPoint

#: a real UK postcode area letter pair (not a road number like "a406")
_POSTCODE_AREA = re.compile(r"^(?!a\d|m\d)[a-z]{1,2}\d")


def _phrase_or_place(tok: str, place: str, phrase: str) -> str:
    """A typo nearer a London name word than a phrase word is not the phrase word:
    "brixtton" is one edit from Brixton, two from Brighton."""
    if phrase != tok and place != tok and OSA.distance(tok, place) < OSA.distance(tok, phrase):
        return tok
    return phrase


def geocode_norm(geo: Any, norm: str, dept: str | None) -> dict[str, Any]:
    """Every stage for one distinct (normalised text, department). ``geo`` is read only: all
    per-call state lives in locals, so one Geocoder serves many threads."""
    ix = geo.index
    corr = geo.corrections.get((norm, dept)) or geo.corrections.get((norm, None))
    norm = unglue(ix, norm)  # "nrhutchings st": a lost space (glue.py)
    tokens = norm.split()
    if not tokens:
        return empty_result("unknown", REASONS["unknown"], 0.99)
    ed = geo.departments.get(dept) if dept else None
    ed_xy = EdPoint(ed[0], ed[1], ed[2] if len(ed) > 2 else None) if ed else None
    corrected, quality, alts = correct_tokens(ix, tokens)
    spans = place_mentions(ix, tokens, ix.find_spans(corrected, quality, alts))
    covered = {
        k
        for s in spans
        for k in range(s.start, s.end)
        if (s.end - s.start) >= 2 and any(ix.etype[i] != "bus_stop" for i in s.ids)
    }
    phrase_fixed = correct_phrase_tokens(tokens, ix.vocab_freq)
    # a gazetteer spelling correction counts only where it completes a place name
    cls_tokens = [
        c if (c != t and k in covered and t not in geo.phrase_words) else _phrase_or_place(t, c, f)
        for k, (t, c, f) in enumerate(zip(tokens, corrected, phrase_fixed, strict=True))
    ]
    cls = classify_tokens(cls_tokens, covered)
    if (
        cls == "outside_area"
        and not names_boundary_town(cls_tokens, covered)
        and any(p.key in ix.postcode for p in find_postcodes(tokens))
    ):
        cls = "locatable"  # "the flower of kent se14": a London postcode district wins
    if cls == "outside_area" and outside_is_narrative(
        ix,
        cls_tokens,
        spans,
        outside_hits(cls_tokens, covered),
        any(p.kind == "postcode" and p.key in ix.postcode for p in find_postcodes(tokens)),
    ):
        cls = "locatable"  # "o/s aldgate stn - supporters liverpool": the scene is London
    if cls == "locatable" and says_unknown(ix, cls_tokens, spans, unknown_hits(cls_tokens)):
        cls = "unknown"  # "pt not sure where it happened"
    if cls != "locatable":
        return empty_result(cls, REASONS[cls], geo.calibrator.status_confidence(cls, 0.95))
    if corr is not None:
        return correction_result(ix, corr)
    found = find_postcodes(tokens)
    kind = only_a_kind(ix, tokens, spans, {k for p in found for k in range(p.start, p.end)})
    if kind:  # "police station", "nightclub e14": a kind of place, not which one
        return empty_result(
            "unknown",
            f"unknown: '{kind}' says what kind of place, not which one",
            geo.calibrator.status_confidence("unknown", 0.95),
        )
    pcs = []
    london_unit = any(p.key in ix.postcode for p in found)
    for p in found:
        if p.key in ix.postcode:
            pcs.append(p)
        elif p.kind == "postcode" and p.key in outside_units(geo):  # a real unit, not London
            if not spans and not london_unit:
                return empty_result(
                    "outside_area",
                    "outside area: a postcode outside London",
                    geo.calibrator.status_confidence("outside_area", 0.95),
                )
        elif p.kind == "postcode":  # unknown unit: a typo, a new postcode, or not London
            sector = f"{p.key[:-3]} {p.key[-3]}"
            if ix.sector_units.get(sector, 0) >= MIN_LONDON_SECTOR_UNITS:
                pcs.append(PostcodeHit("postcode_sector", sector, p.start, p.end))
            elif _POSTCODE_AREA.match(p.key) and len(found) == 1 and not spans:
                return empty_result(
                    "outside_area",
                    "outside area: a full postcode whose sector is not in London",
                    geo.calibrator.status_confidence("outside_area", 0.95),
                )
    loc = interpret(ix, tokens, corrected, spans, pcs, ed_xy)
    if loc is None:
        return empty_result("unmatched", REASONS["unmatched"], 0.0)
    if isinstance(loc, dict):
        return loc
    conf = geo.calibrator.confidence(loc, tokens, corrected)  # P(right), calibrate.py
    return located_result(ix, loc, round(float(conf), 3))
