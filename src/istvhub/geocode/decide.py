"""Decide: which reading of the text's spans and postcodes names the place (postcode,
junction, station/venue with context, street with context, area, postcode sector)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from istvhub.geocode.candidates import POI_TYPES, PlaceIndex, SpanHit
from istvhub.geocode.context import named_elsewhere, text_contexts, unexplained_name
from istvhub.geocode.cues import (
    AREA_TYPES,
    JUNCTION_WORDS,
    MAIN_POI,
    PC_RADIUS,
    ROAD_WORDS,
    STATION_CUES,
    VENUE_CUES,
)
from istvhub.geocode.explain import Loc, Row
from istvhub.geocode.fuzzy import residual_match, station_fuzzy
from istvhub.geocode.junctions import junction
from istvhub.geocode.mentions import residual_words, segments_of, tile
from istvhub.geocode.postcodes import PostcodeHit
from istvhub.geocode.rank import Context, EdPoint
from istvhub.geocode.resolve import contexts, pick
from istvhub.geocode.venues import bare_chain, on_street, park_rows, subject_spans


def interpret(
    ix: PlaceIndex,
    tokens: list[str],
    corrected: list[str],
    spans: list[SpanHit],
    pcs: list[PostcodeHit],
    ed_xy: EdPoint | None,
) -> Loc | Row | None:
    """The reading of the text's mentions that names the place; a street, station or area
    answer beside words that name something the gazetteer lacks ("prufrock coffee in
    shoreditch high st") is a fallback and says so, at a lower confidence."""
    loc = _interpret(ix, tokens, corrected, spans, pcs, ed_xy)
    if (
        isinstance(loc, Loc)
        and loc.match_type in ("street", "station", "area", "borough")
        and "not found" not in loc.reason
    ):
        lost = unexplained_name(ix, tokens, corrected, spans, pcs, loc)
        if lost:
            loc.raw *= 0.6
            loc.reason += f"; {lost} (named in the text) was not found there: {loc.match_type} only"
    return loc


class _Next:
    """A step's answer that it has none: the next step reads the text."""


NEXT = _Next()
Answer = Loc | Row | None


@dataclass
class _Reading:
    """One call's reading of the text, shared by the steps (per call, never on a shared
    object: the API serves many threads from one Geocoder)."""

    ix: PlaceIndex
    tokens: list[str]
    corrected: list[str]
    pcs: list[PostcodeHit]
    ed_xy: EdPoint | None
    pc_tok: set[int]
    chosen: list[SpanHit]
    contexts_pc: list[Context]
    words: set[str]
    street_spans: list[SpanHit]
    poi_ok: tuple[str, ...]
    poi_spans: list[SpanHit]
    area_spans: list[SpanHit]
    residual: str
    segments: list[str]

    def residual_match(self) -> Loc | None:
        return residual_match(
            self.ix,
            self.residual,
            self.segments,
            self.chosen,
            self.contexts_pc,
            self.ed_xy,
            self.words,
        )


def _interpret(
    ix: PlaceIndex,
    tokens: list[str],
    corrected: list[str],
    spans: list[SpanHit],
    pcs: list[PostcodeHit],
    ed_xy: EdPoint | None,
) -> Answer:
    # 1. a full postcode is the most precise thing a receptionist can give
    units = [p for p in pcs if p.kind == "postcode"]
    if units:
        i = ix.postcode[units[0].key]
        return Loc(
            "postcode",
            ix.x[i],
            ix.y[i],
            ix.prec[i],
            0.97,
            ix.name[i],
            i,
            f"postcode {ix.name[i]}",
        )
    r = _reading(ix, tokens, corrected, spans, pcs, ed_xy)
    for step in (_station_cue, _junction, _poi, _residual, _street, _area):
        loc = step(r)
        if not isinstance(loc, _Next):
            return loc
    return _sector_or_other(r)


def _reading(
    ix: PlaceIndex,
    tokens: list[str],
    corrected: list[str],
    spans: list[SpanHit],
    pcs: list[PostcodeHit],
    ed_xy: EdPoint | None,
) -> _Reading:
    pc_tok = {k for p in pcs for k in range(p.start, p.end)}
    chosen = tile(spans, pc_tok)
    if len(chosen) > 1:  # "london" adds nothing beside a real place
        chosen = [c for c in chosen if c.key != "london"] or chosen
    contexts_pc = [
        Context(
            p.kind,
            ix.name[ix.postcode[p.key]],
            np.array([ix.x[ix.postcode[p.key]]]),
            np.array([ix.y[ix.postcode[p.key]]]),
            max(PC_RADIUS.get(p.kind, 1500.0), float(ix.prec[ix.postcode[p.key]])),
            district=(
                ix.name[ix.postcode[p.key]].split()[0].upper()
                if p.kind == "postcode_district"
                else None
            ),
        )
        for p in pcs
    ]
    contexts_pc += text_contexts(ix, corrected, chosen)
    words = set(corrected)
    street_spans = [s for s in chosen if any(ix.etype[i] == "street" for i in s.ids)]
    if len(street_spans) > 1:  # "cheapside - the city": a span naming a borough is context
        plain = [s for s in street_spans if not any(ix.etype[i] == "borough" for i in s.ids)]
        street_spans = plain or street_spans
    poi_ok = POI_TYPES if ({"bus", "stop", "dock", "bike"} & words) else MAIN_POI
    return _Reading(
        ix=ix,
        tokens=tokens,
        corrected=corrected,
        pcs=pcs,
        ed_xy=ed_xy,
        pc_tok=pc_tok,
        chosen=chosen,
        contexts_pc=contexts_pc,
        words=words,
        street_spans=street_spans,
        poi_ok=poi_ok,
        poi_spans=[s for s in chosen if any(ix.etype[i] in poi_ok for i in s.ids)],
        area_spans=[s for s in chosen if any(ix.etype[i] in AREA_TYPES for i in s.ids)],
        residual=residual_words(corrected, chosen, pc_tok),
        segments=segments_of(tokens, pc_tok),
    )


def _station_cue(r: _Reading) -> Answer | _Next:
    """1b. "X tube/stn" where X is no station name as written: fuzzy over station names."""
    ix, corrected = r.ix, r.corrected
    cue_at = next((k for k, t in enumerate(corrected) if t in STATION_CUES), None)
    named_before_cue = cue_at is not None and any(
        sp.end == cue_at and sp.how == "exact" for sp in r.chosen
    )
    if (
        STATION_CUES & r.words
        and not named_before_cue
        and not any(ix.etype[i] == "station" for sp in r.chosen for i in sp.ids)
    ):
        loc = station_fuzzy(ix, corrected, r.tokens, r.contexts_pc, r.ed_xy)
        if loc is not None:
            return loc
    return NEXT


def _junction(r: _Reading) -> Answer | _Next:
    """2. A junction of two streets."""
    if len(r.street_spans) < 2:
        return NEXT
    a, b = r.street_spans[0], r.street_spans[1]
    between = r.corrected[a.end : b.start]
    cue = any(t in JUNCTION_WORDS for t in between) or any(
        t in ("junction", "corner", "/") for t in r.corrected
    )
    if (cue or not r.poi_spans) and a.key != b.key:
        other = [s for s in r.chosen if s not in (a, b)]
        j = junction(r.ix, a, b, r.contexts_pc + contexts(r.ix, other), r.ed_xy, cue)
        if j is not None:
            return j
    return NEXT


def _poi(r: _Reading) -> Answer | _Next:
    """3. A venue/station/landmark, with any street/area/district as context; a word that
    also names an area beside a street is the street's context ("station rd harrow")."""
    ix, corrected, words = r.ix, r.corrected, r.words
    poi_spans = r.poi_spans
    in_streets = {k for sp in r.street_spans for k in range(sp.start, sp.end)}
    free_words = {t for k, t in enumerate(corrected) if k not in in_streets}
    if r.street_spans and not ((VENUE_CUES | STATION_CUES) & free_words):
        poi_spans = [
            p
            for p in poi_spans
            if not (
                any(ix.etype[i] in AREA_TYPES for i in p.ids)
                and any(sp is not p for sp in r.street_spans)
            )
        ]
    if not poi_spans:
        return NEXT
    poi_spans = subject_spans(ix, poi_spans, corrected)  # venues.py
    p = max(poi_spans, key=lambda s: (s.end - s.start, s.quality))
    other = [s for s in r.chosen if s is not p]
    the_named = p.key.startswith("the ") or (p.start > 0 and corrected[p.start - 1] == "the")
    rows = _poi_rows(r, p, other, the_named)
    ctx = r.contexts_pc + contexts(ix, other)
    rows = on_street(ix, rows, [s for s in r.street_spans if s is not p])  # venues.py
    loc = pick(ix, rows, p, ctx, r.ed_xy, "poi")
    loc = bare_chain(ix, p, rows, loc) or loc  # "outside mcdonalds": which? (venues.py)
    agrees = isinstance(loc, Loc) and loc.ctx_hits
    # "brixton" alone names the area and its station: the area is what the
    # receptionist means, and its station is a better point than a district centroid
    area_named = (
        any(ix.etype[i] in AREA_TYPES for i in p.ids)
        and not (STATION_CUES & words)
        and not agrees
        and not the_named
    )  # "the queensbury" is a pub, not the area
    if area_named:
        return _area_by_station(r, p, other, rows, ctx)
    if isinstance(loc, Loc) and (agrees or not loc.ctx_misses):
        return loc
    if isinstance(loc, dict) and not (r.street_spans or r.area_spans):
        if r.residual:
            alt = r.residual_match()
            if alt is not None:
                return alt
        return loc
    return NEXT


def _poi_rows(r: _Reading, p: SpanHit, other: list[SpanHit], the_named: bool) -> list[int]:
    """Which of a venue/station span's entries the text means."""
    ix, words = r.ix, r.words
    rows = [i for i in p.ids if ix.etype[i] in r.poi_ok]
    if the_named and not (STATION_CUES & words) and any(ix.etype[i] == "venue" for i in rows):
        rows = [i for i in rows if ix.etype[i] == "venue"]  # "the haggerston": a pub
    has_station = any(ix.etype[i] == "station" for i in rows)
    before = r.corrected[p.start - 1] if p.start else None
    ctx = r.contexts_pc + contexts(ix, other)
    if has_station and (
        STATION_CUES & words
        or (not (VENUE_CUES & words) and before not in ("on", "along", "off") and not ctx)
    ):
        # a bare station name ("o/s angel", "opp chancery lane") means the station;
        # "on wandsworth road" means the road; "clapham common" the common (venues.py)
        parks = [] if STATION_CUES & words else park_rows(ix, rows, p.key)
        if parks:
            rows = parks
        elif not (
            p.key.split()[-1] in ROAD_WORDS
            and before in (None, "in")
            and any(ix.etype[i] == "street" for i in p.ids)
            and not (STATION_CUES & words)
        ):
            rows = [i for i in rows if ix.etype[i] == "station"]
    elif has_station and any(ix.etype[i] == "street" for i in p.ids):
        rows = [i for i in rows if ix.etype[i] != "station"]
    return rows


def _area_by_station(
    r: _Reading, p: SpanHit, other: list[SpanHit], rows: list[int], ctx: list[Context]
) -> Answer | _Next:
    """A span naming an area (and its station): a venue named in the area first, else the
    area at its station's point."""
    ix = r.ix
    # "o/s the roundhuose chalk farm": a venue span in the named area
    for q in other:
        vrows = [i for i in q.ids if ix.etype[i] in r.poi_ok and ix.etype[i] != "station"]
        if vrows and not any(ix.etype[i] in AREA_TYPES for i in q.ids):
            alt = pick(ix, vrows, q, r.contexts_pc + contexts(ix, [p]), r.ed_xy, "poi")
            if isinstance(alt, Loc) and alt.ctx_hits:
                return alt
    if r.residual and (VENUE_CUES & r.words or len(r.residual) >= 6):
        alt = r.residual_match()
        if alt is not None:  # "o/s the roundhouse chalk farm": a venue in the area
            return alt
    st = [i for i in rows if ix.etype[i] == "station"]
    loc = pick(ix, st, p, ctx, r.ed_xy, "poi") if st else None
    if isinstance(loc, Loc):
        loc.match_type = "area"
        loc.precision = max(loc.precision, 800.0)
        loc.raw *= 0.85
        loc.reason = f"area named by its station: {loc.reason}"
        lost = named_elsewhere(ix, r.tokens, p, other, r.residual)
        if lost:
            loc.raw *= 0.5
            loc.reason += f"; the place named ({lost}) was not found there: area only"
        return loc
    return NEXT


def _residual(r: _Reading) -> Answer | _Next:
    """3b. Words the gazetteer spans did not explain: a venue fuzzy-matched near the context."""
    if r.residual:
        loc = r.residual_match()
        if loc is not None:
            return loc
    return NEXT


def _street(r: _Reading) -> Answer | _Next:
    """4. A street, with context."""
    if not r.street_spans:
        return NEXT
    s = max(r.street_spans, key=lambda s: (s.quality, s.end - s.start))
    other = [t for t in r.chosen if t is not s]
    rows = [i for i in s.ids if r.ix.etype[i] == "street"]
    ctx = r.contexts_pc + contexts(r.ix, other)
    loc = pick(r.ix, rows, s, ctx, r.ed_xy, "street")
    # a street that contradicts the postcode district given: trust the postcode
    if (
        isinstance(loc, Loc)
        and r.contexts_pc
        and not loc.ctx_hits
        and any(c.name in loc.ctx_misses for c in r.contexts_pc)
    ):
        return NEXT
    if isinstance(loc, Loc) and loc.ctx_misses and not loc.ctx_hits:
        loc.raw *= 0.5  # "roundhouse lane, newham" for a text that names chalk farm
    return loc


def _area(r: _Reading) -> Answer | _Next:
    """5. An area or borough."""
    if not r.area_spans:
        return NEXT
    ix = r.ix
    s = max(r.area_spans, key=lambda s: (s.end - s.start, s.quality))
    rows = [i for i in s.ids if ix.etype[i] in AREA_TYPES]
    areas = [i for i in rows if ix.etype[i] == "area"]
    rows = areas or rows  # an area point beats a borough centroid of the same name
    other = [t for t in r.chosen if t is not s]
    loc = pick(ix, rows, s, r.contexts_pc + contexts(ix, other), r.ed_xy, "area")
    lost = named_elsewhere(ix, r.tokens, s, other, r.residual)
    if isinstance(loc, Loc) and lost:
        # "crown & anchr, hackney": the venue named is not found there; the area is a
        # fallback, never an answer at full confidence
        loc.raw *= 0.5
        loc.reason += f"; the place named ({lost}) was not found there: area only"
    return loc


def _sector_or_other(r: _Reading) -> Answer:
    """5b. A postcode sector/district; 6. anything else a span named (bus stops, docks)."""
    ix, pcs = r.ix, r.pcs
    sect = [p for p in pcs if p.kind == "postcode_sector"] or [
        p for p in pcs if p.kind == "postcode_district"
    ]
    if sect:
        i = ix.postcode[sect[0].key]
        raw = 0.85 if sect[0].kind == "postcode_sector" else 0.75
        return Loc(
            sect[0].kind,
            ix.x[i],
            ix.y[i],
            ix.prec[i],
            raw,
            ix.name[i],
            i,
            f"{sect[0].kind.replace('_', ' ')} {ix.name[i]}",
        )
    if r.chosen:
        s = max(r.chosen, key=lambda s: (s.end - s.start, s.quality))
        return pick(ix, list(s.ids), s, r.contexts_pc, r.ed_xy, "other")
    return None
