"""Decide: which reading of the text's spans and postcodes names the place (postcode,
junction, station/venue with context, street with context, area, postcode sector)."""

from __future__ import annotations

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
from istvhub.geocode.explain import Loc
from istvhub.geocode.fuzzy import residual_match, station_fuzzy
from istvhub.geocode.junctions import junction
from istvhub.geocode.mentions import residual_words, segments_of, tile
from istvhub.geocode.rank import Context
from istvhub.geocode.resolve import contexts, pick
from istvhub.geocode.venues import bare_chain, on_street, park_rows, subject_spans


def interpret(
    ix: PlaceIndex,
    tokens: list[str],
    corrected: list[str],
    spans: list[SpanHit],
    pcs: list,
    ed_xy: tuple[float, float] | None,
) -> Loc | dict | None:
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


def _interpret(
    ix: PlaceIndex,
    tokens: list[str],
    corrected: list[str],
    spans: list[SpanHit],
    pcs: list,
    ed_xy: tuple[float, float] | None,
) -> Loc | dict | None:
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
    poi_spans = [s for s in chosen if any(ix.etype[i] in poi_ok for i in s.ids)]
    area_spans = [s for s in chosen if any(ix.etype[i] in AREA_TYPES for i in s.ids)]
    residual = residual_words(corrected, chosen, pc_tok)
    segments = segments_of(tokens, pc_tok)  # per call, never on a shared object

    # 1b. "X tube/stn" where X is no station name as written: fuzzy over station names
    cue_at = next((k for k, t in enumerate(corrected) if t in STATION_CUES), None)
    named_before_cue = cue_at is not None and any(
        sp.end == cue_at and sp.how == "exact" for sp in chosen
    )
    if (
        STATION_CUES & words
        and not named_before_cue
        and not any(ix.etype[i] == "station" for sp in chosen for i in sp.ids)
    ):
        loc = station_fuzzy(ix, corrected, tokens, contexts_pc, ed_xy)
        if loc is not None:
            return loc
    # 2. junction of two streets
    if len(street_spans) >= 2:
        a, b = street_spans[0], street_spans[1]
        between = corrected[a.end : b.start]
        cue = any(t in JUNCTION_WORDS for t in between) or any(
            t in ("junction", "corner", "/") for t in corrected
        )
        if (cue or not poi_spans) and a.key != b.key:
            other = [s for s in chosen if s not in (a, b)]
            ctx = contexts_pc + contexts(ix, other)
            j = junction(ix, a, b, ctx, ed_xy, cue)
            if j is not None:
                return j
    # 3. a venue/station/landmark, with any street/area/district as context; a word that
    # also names an area beside a street is the street's context ("station rd harrow")
    in_streets = {k for sp in street_spans for k in range(sp.start, sp.end)}
    free_words = {t for k, t in enumerate(corrected) if k not in in_streets}
    if street_spans and not ((VENUE_CUES | STATION_CUES) & free_words):
        poi_spans = [
            p
            for p in poi_spans
            if not (
                any(ix.etype[i] in AREA_TYPES for i in p.ids)
                and any(sp is not p for sp in street_spans)
            )
        ]
    if poi_spans:
        poi_spans = subject_spans(ix, poi_spans, corrected)  # venues.py
        p = max(poi_spans, key=lambda s: (s.end - s.start, s.quality))
        other = [s for s in chosen if s is not p]
        rows = [i for i in p.ids if ix.etype[i] in poi_ok]
        the_named = p.key.startswith("the ") or (p.start > 0 and corrected[p.start - 1] == "the")
        if the_named and not (STATION_CUES & words) and any(ix.etype[i] == "venue" for i in rows):
            rows = [i for i in rows if ix.etype[i] == "venue"]  # "the haggerston": a pub
        has_station = any(ix.etype[i] == "station" for i in rows)
        before = corrected[p.start - 1] if p.start else None
        ctx = contexts_pc + contexts(ix, other)
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
        ctx = contexts_pc + contexts(ix, other)
        rows = on_street(ix, rows, [s for s in street_spans if s is not p])  # venues.py
        loc = pick(ix, rows, p, ctx, ed_xy, "poi")
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
        if area_named:  # "o/s the roundhuose chalk farm": a venue span in the named area
            for q in other:
                vrows = [i for i in q.ids if ix.etype[i] in poi_ok and ix.etype[i] != "station"]
                if vrows and not any(ix.etype[i] in AREA_TYPES for i in q.ids):
                    alt = pick(ix, vrows, q, contexts_pc + contexts(ix, [p]), ed_xy, "poi")
                    if isinstance(alt, Loc) and alt.ctx_hits:
                        return alt
        if area_named and residual and (VENUE_CUES & words or len(residual) >= 6):
            alt = residual_match(ix, residual, segments, chosen, contexts_pc, ed_xy, words)
            if alt is not None:  # "o/s the roundhouse chalk farm": a venue in the area
                return alt
        if area_named:
            st = [i for i in rows if ix.etype[i] == "station"]
            loc = pick(ix, st, p, ctx, ed_xy, "poi") if st else None
            if isinstance(loc, Loc):
                loc.match_type = "area"
                loc.precision = max(loc.precision, 800.0)
                loc.raw *= 0.85
                loc.reason = f"area named by its station: {loc.reason}"
                lost = named_elsewhere(ix, tokens, p, other, residual)
                if lost:
                    loc.raw *= 0.5
                    loc.reason += f"; the place named ({lost}) was not found there: area only"
                return loc
        elif isinstance(loc, Loc) and (agrees or not loc.ctx_misses):
            return loc
        elif isinstance(loc, dict) and not (street_spans or area_spans):
            if residual:
                alt = residual_match(ix, residual, segments, chosen, contexts_pc, ed_xy, words)
                if alt is not None:
                    return alt
            return loc
    # 3b. words the gazetteer spans did not explain: a venue fuzzy-matched near the context
    if residual:
        loc = residual_match(ix, residual, segments, chosen, contexts_pc, ed_xy, words)
        if loc is not None:
            return loc
    # 4. a street, with context
    if street_spans:
        s = max(street_spans, key=lambda s: (s.quality, s.end - s.start))
        other = [t for t in chosen if t is not s]
        rows = [i for i in s.ids if ix.etype[i] == "street"]
        ctx = contexts_pc + contexts(ix, other)
        loc = pick(ix, rows, s, ctx, ed_xy, "street")
        # a street that contradicts the postcode district given: trust the postcode
        if not (
            isinstance(loc, Loc)
            and contexts_pc
            and not loc.ctx_hits
            and any(c.name in loc.ctx_misses for c in contexts_pc)
        ):
            if isinstance(loc, Loc) and loc.ctx_misses and not loc.ctx_hits:
                loc.raw *= 0.5  # "roundhouse lane, newham" for a text that names chalk farm
            return loc
    # 5. area / borough, else a postcode sector/district
    if area_spans:
        s = max(area_spans, key=lambda s: (s.end - s.start, s.quality))
        rows = [i for i in s.ids if ix.etype[i] in AREA_TYPES]
        areas = [i for i in rows if ix.etype[i] == "area"]
        rows = areas or rows  # an area point beats a borough centroid of the same name
        other = [t for t in chosen if t is not s]
        loc = pick(ix, rows, s, contexts_pc + contexts(ix, other), ed_xy, "area")
        lost = named_elsewhere(ix, tokens, s, other, residual)
        if isinstance(loc, Loc) and lost:
            # "crown & anchr, hackney": the venue named is not found there; the area is a
            # fallback, never an answer at full confidence
            loc.raw *= 0.5
            loc.reason += f"; the place named ({lost}) was not found there: area only"
        return loc
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
    # 6. anything else a span named (bus stops, cycle docks)
    if chosen:
        s = max(chosen, key=lambda s: (s.end - s.start, s.quality))
        return pick(ix, list(s.ids), s, contexts_pc, ed_xy, "other")
    return None
