"""Rank and resolve one span's candidate rows: context from other spans, choice among
same-name places, the uncalibrated confidence and the reason."""

from __future__ import annotations

import math

import numpy as np

from istvhub.geocode.candidates import PlaceIndex, SpanHit
from istvhub.geocode.cues import FAR_GUARD_KM
from istvhub.geocode.explain import MATCH_TYPE_OF, Loc, Row, empty_result
from istvhub.geocode.rank import Choice, Context, EdPoint, choose


def contexts(ix: PlaceIndex, spans: list[SpanHit]) -> list[Context]:
    out = []
    for s in spans:
        rows = np.array(s.ids)
        t = ix.etype[rows]
        bor = rows[t == "borough"]
        area = rows[t == "area"]
        if len(area):
            out.append(Context("area", ix.name[area[0]], ix.x[area], ix.y[area], 1500.0))
        if len(bor):
            out.append(
                Context(
                    "borough",
                    ix.name[bor[0]] + " (borough)",
                    ix.x[bor],
                    ix.y[bor],
                    5000.0,
                    borough=ix.name[bor[0]],
                )
            )
        if len(area) or len(bor):
            continue
        st = rows[t == "street"]
        if len(st):
            pts = [p for r in st if (p := ix.street_pts.get(int(r))) is not None]
            xy = np.vstack(pts) if pts else np.c_[ix.x[st], ix.y[st]]
            out.append(Context("street", ix.name[st[0]], xy[:, 0], xy[:, 1], 250.0))
            continue
        poi = rows[np.isin(t, ("station", "hospital"))]
        if len(poi):
            out.append(Context("station", ix.name[poi[0]], ix.x[poi], ix.y[poi], 600.0))
    return out


def pick(
    ix: PlaceIndex,
    rows: list[int],
    span: SpanHit,
    ctx: list[Context],
    ed_xy: EdPoint | None,
    role: str,
) -> Loc | Row | None:
    if not rows:
        return None
    r = np.asarray(rows, dtype=np.int64)
    q = span.quality_of(r)
    ch = choose(
        ix.x[r], ix.y[r], q, ix.etype[r], ix.borough[r], ctx, ed_xy, ix.prec[r], ix.district[r]
    )
    best = int(r[ch.best])
    et = str(ix.etype[best])
    mt = MATCH_TYPE_OF.get(et, "street")
    if ch.ambiguous:
        return ambiguous(ix.name[best], mt, ch)
    x, y, prec = ix.x[best], ix.y[best], float(ix.prec[best])
    # the street's reach from the answer point, unless context narrowed it to some of its points
    extent = float(ix.extent[best]) if et == "street" else 0.0
    # a street named with a district/area: use the street's points in that context
    if et == "street" and best in ix.street_pts:
        pts = ix.street_pts[best]
        prec = max(prec, spread(pts))
        for c in ctx:
            if (
                c.kind in ("postcode_sector", "postcode_district", "area", "station", "street")
                and len(pts) > 1
            ):
                d = np.min(
                    np.hypot(pts[:, 0, None] - c.xs[None, :], pts[:, 1, None] - c.ys[None, :]),
                    axis=1,
                )
                near = pts[d <= max(c.radius, 300.0)]
                if len(near):
                    x, y = float(np.median(near[:, 0])), float(np.median(near[:, 1]))
                    prec = max(float(ix.prec[best]) * 0.5, min(prec, spread(near) + 50))
                    extent = prec  # the reach of its points in that context
                    break
    raw = raw_conf(span, ch, mt, len(r))
    if (
        span.how != "exact"
        and not ch.context_hits
        and len(span.key.split()) == 1
        and et not in ("area", "borough")
    ):
        raw *= 0.7  # one corrected word naming a venue or street, nothing to back it
    if ch.ed_km is not None and ch.ed_km > 10 and not ch.context_hits:
        raw *= 0.85
    if ch.ed_km is not None and ch.ed_km > FAR_GUARD_KM and not ch.context_hits:
        raw *= 0.6  # guardrail: implausibly far from the treating ED with nothing to back it
        if span.how != "exact":
            return None
    reason = f"{mt.replace('_', ' ')} {ix.name[best]}"
    if ix.borough[best]:
        reason += f", {ix.borough[best]}"
    if span.how == "fuzzy":
        reason += " (spelling corrected)"
    elif span.how == "core":
        reason += " (name matched without its type word)"
    if ch.context_hits:
        reason += "; agrees with " + ", ".join(ch.context_hits)
    if ch.context_misses:
        reason += "; far from " + ", ".join(ch.context_misses)
    if len(r) > 1:
        reason += f"; chosen among {len(r)} same-name places"
        if ch.ed_km is not None and not ch.context_hits:
            reason += f", nearest the department ({ch.ed_km:.1f} km)"
    return Loc(
        mt,
        float(x),
        float(y),
        prec,
        raw,
        ix.name[best],
        best,
        reason,
        (ix.key[best],) if et == "street" else (),
        tuple(ch.context_hits),
        tuple(ch.context_misses),
        extent,
    )


def raw_conf(span: SpanHit, ch: Choice, mt: str, n: int) -> float:
    base = {
        "postcode": 0.97,
        "junction": 0.85,
        "station": 0.9,
        "venue": 0.8,
        "street": 0.85,
        "area": 0.7,
        "borough": 0.6,
        "postcode_sector": 0.85,
        "postcode_district": 0.75,
    }.get(mt, 0.6)
    raw = base * min(1.0, span.quality + 0.05)
    if ch.context_hits:
        raw = min(1.0, raw + 0.08 * len(ch.context_hits))
    if ch.context_misses:
        raw *= 0.75
    if math.isfinite(ch.margin):
        raw *= min(1.0, 0.7 + ch.margin)
    return float(min(max(raw, 0.0), 1.0))


def ambiguous(name: str, mt: str, ch: Choice) -> Row:
    r = empty_result(
        "ambiguous",
        f"ambiguous: {mt.replace('_', ' ')} '{name}' exists in {ch.n_rivals + 1}+ places "
        "far apart and nothing in the text or the department's location tells them apart",
        0.0,
    )
    r["matched_name"] = name
    r["match_type"] = mt
    return r


def spread(pts: np.ndarray) -> float:
    """Half the diagonal of the points' extent: a street's expected error radius."""
    if len(pts) < 2:
        return 50.0
    return float(np.hypot(np.ptp(pts[:, 0]), np.ptp(pts[:, 1])) / 2)
