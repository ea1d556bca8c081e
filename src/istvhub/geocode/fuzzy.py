"""Fuzzy fallbacks: a misspelt station before a station cue, and a venue fuzzy-matched among
places near what the text did name."""

from __future__ import annotations

import numpy as np

from istvhub.geocode.candidates import POI_TYPES, STOPWORDS, PlaceIndex, SpanHit
from istvhub.geocode.cues import MAIN_POI, STATION_CUES, VENUE_CUES
from istvhub.geocode.explain import MATCH_TYPE_OF, Loc
from istvhub.geocode.normalise import SEPARATORS
from istvhub.geocode.rank import Context, EdPoint, choose
from istvhub.geocode.resolve import contexts, raw_conf


def station_fuzzy(
    ix: PlaceIndex,
    corrected: list[str],
    tokens: list[str],
    contexts_pc: list[Context],
    ed_xy: EdPoint | None,
) -> Loc | None:
    cue = next(k for k, t in enumerate(corrected) if t in STATION_CUES)
    words = [t for t in tokens[max(0, cue - 4) : cue] if t not in STOPWORDS and t not in SEPARATORS]
    if not words:
        return None
    from rapidfuzz import fuzz, process

    rows_keys = getattr(ix, "_station_rows_keys", None)
    if rows_keys is None:  # built once per index; a race only builds it twice
        st_rows = np.flatnonzero(ix.etype == "station")
        rows_keys = ix._station_rows_keys = (st_rows, [str(k) for k in ix.key[st_rows]])
    station_rows, station_keys = rows_keys
    best = None
    compass = {"north", "south", "east", "west"}
    for k in range(len(words)):  # "nr otwer gateway": try the last 1..4 words
        q = " ".join(words[k:])
        hits = process.extract(q, station_keys, scorer=fuzz.ratio, score_cutoff=80, limit=6)
        # "east croydon" is not a misspelt "west croydon"
        qc = compass & set(q.split())
        hits = [h for h in hits if (compass & set(h[0].split())) == qc]
        if hits and (best is None or hits[0][1] > best[0][1]):
            best = hits
    if not best:
        return None
    r = np.array([station_rows[h[2]] for h in best])
    qual = np.array([h[1] / 100.0 for h in best])
    ch = choose(
        ix.x[r],
        ix.y[r],
        qual,
        ix.etype[r],
        ix.borough[r],
        contexts_pc,
        ed_xy,
        ix.prec[r],
        ix.district[r],
    )
    if ch.ambiguous:
        return None
    b = int(r[ch.best])
    raw = raw_conf(SpanHit(0, 0, "", (), float(qual[ch.best]), "fuzzy"), ch, "station", len(r))
    return Loc(
        "station",
        float(ix.x[b]),
        float(ix.y[b]),
        float(ix.prec[b]),
        raw,
        ix.name[b],
        b,
        f"station {ix.name[b]}, {ix.borough[b]} (station name matched approximately)",
    )


def residual_match(
    ix: PlaceIndex,
    residual: str,
    segments: list[str],
    chosen: list[SpanHit],
    contexts_pc: list[Context],
    ed_xy: EdPoint | None,
    words: set[str],
) -> Loc | None:
    """Fuzzy-match the unexplained words (and each phrase between connector words) against
    places near what the text did name (district, street, area), or near the department
    when a venue word says it is a place."""
    named = {sp.key for sp in chosen}
    queries = [
        q
        for q in dict.fromkeys([residual, *segments])
        if q and q not in named and not any(q in k or k in q for k in named)
    ]
    queries = queries or ([residual] if residual else [])
    ctx = contexts_pc + contexts(ix, chosen)
    types = POI_TYPES if ({"bus", "stop"} & words) else MAIN_POI
    if not ctx:
        if not (VENUE_CUES & words) or ed_xy is None:
            return None
        ctx_pts = (np.array([ed_xy[0]]), np.array([ed_xy[1]]), 6000.0)
    else:
        c = min(ctx, key=lambda c: c.radius)
        ctx_pts = (c.xs, c.ys, min(max(c.radius * 1.2, 400.0), 3000.0))
    best: dict[int, float] = {}
    for q in queries:
        for row, sc in ix.fuzzy_near(q, *ctx_pts, types=types, cutoff=84.0, limit=8):
            best[row] = max(best.get(row, 0.0), sc)
    hits = sorted(best.items(), key=lambda h: -h[1])[:8]
    if not hits:
        return None
    rows = [h[0] for h in hits]
    qual = np.array([h[1] for h in hits])
    r = np.asarray(rows)
    ch = choose(
        ix.x[r], ix.y[r], qual, ix.etype[r], ix.borough[r], ctx, ed_xy, ix.prec[r], ix.district[r]
    )
    b = int(r[ch.best])
    if ch.ambiguous:
        return None
    mt = MATCH_TYPE_OF.get(str(ix.etype[b]), "venue")
    raw = raw_conf(SpanHit(0, 0, "", (), float(qual[ch.best]), "fuzzy"), ch, mt, len(r))
    reason = f"{mt} {ix.name[b]}" + (f", {ix.borough[b]}" if ix.borough[b] else "")
    reason += (
        " (name matched approximately among places near "
        + (", ".join(c.name for c in ctx[:2]) if ctx else "the department")
        + ")"
    )
    return Loc(
        mt,
        float(ix.x[b]),
        float(ix.y[b]),
        float(ix.prec[b]),
        raw,
        ix.name[b],
        b,
        reason,
    )
