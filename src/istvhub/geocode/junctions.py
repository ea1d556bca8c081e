"""Junctions: a gazetteer junction entry, else the closest approach of two named streets."""

from __future__ import annotations

import numpy as np

from istvhub.geocode.candidates import PlaceIndex, SpanHit
from istvhub.geocode.cues import FAR_GUARD_KM, MAX_JUNCTION_GAP_M
from istvhub.geocode.explain import Loc, Row
from istvhub.geocode.rank import Context, EdPoint, choose
from istvhub.geocode.resolve import ambiguous, raw_conf


def junction(
    ix: PlaceIndex,
    a: SpanHit,
    b: SpanHit,
    ctx: list[Context],
    ed_xy: EdPoint | None,
    cue: bool,
) -> Loc | Row | None:
    ra = [i for i in a.ids if ix.etype[i] == "street"]
    rb = [i for i in b.ids if ix.etype[i] == "street"]
    names = (ix.name[ra[0]], ix.name[rb[0]])
    # a junction entry in the gazetteer wins
    jrows = ix.junctions.get(frozenset((ix.key[ra[0]], ix.key[rb[0]])))
    if jrows:
        r = np.asarray(jrows)
        ch = choose(
            ix.x[r],
            ix.y[r],
            np.full(len(r), a.quality * b.quality),
            ix.etype[r],
            ix.borough[r],
            ctx,
            ed_xy,
        )
        if ch.ambiguous:
            return ambiguous(f"{names[0]} / {names[1]}", "junction", ch)
        best = int(r[ch.best])
        return Loc(
            "junction",
            ix.x[best],
            ix.y[best],
            max(ix.prec[best], 30.0),
            raw_conf(_q(a, b), ch, "junction", len(r)),
            ix.name[best],
            best,
            f"junction {ix.name[best]}",
            (ix.key[ra[0]], ix.key[rb[0]]),
        )

    # else the closest approach of the two streets' points: all points of every street of
    # each name at once (a few hundred each), then the closest pair per pair of entries
    def pts_of(rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        xy = [ix.street_pts.get(i, np.array([[ix.x[i], ix.y[i]]])) for i in rows]
        lab = np.concatenate([np.full(len(p), i) for p, i in zip(xy, rows, strict=True)])
        return np.vstack(xy), lab

    axy, alab = pts_of(ra)
    bxy, blab = pts_of(rb)
    if len(axy) * len(bxy) > 4_000_000:  # pathological names: keep points near the ED
        return None
    d = np.hypot(axy[:, 0, None] - bxy[None, :, 0], axy[:, 1, None] - bxy[None, :, 1])
    ka, kb = np.nonzero(d <= MAX_JUNCTION_GAP_M)
    cands = []
    if len(ka):
        gaps = d[ka, kb]
        order = np.argsort(gaps, kind="stable")
        seen: set[tuple[int, int]] = set()
        for o in order:
            ia, ib = int(alab[ka[o]]), int(blab[kb[o]])
            if (ia, ib) in seen:
                continue
            seen.add((ia, ib))
            pa, pb = axy[ka[o]], bxy[kb[o]]
            cands.append(((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2, float(gaps[o]), ia, ib))
    if not cands:
        return None
    c = np.array([(m[0], m[1], m[2]) for m in cands])
    # one place per cluster: keep the smallest gap within 300 m
    q = a.quality * b.quality - c[:, 2] / 2000.0
    bor = np.array([ix.borough[m[3]] for m in cands], dtype=object)
    ch = choose(c[:, 0], c[:, 1], q, np.array(["junction"] * len(c)), bor, ctx, ed_xy)
    if ch.ambiguous:
        return ambiguous(f"{names[0]} / {names[1]}", "junction", ch)
    mx, my, gap, ia, ib = cands[ch.best]
    if ch.ed_km is not None and ch.ed_km > FAR_GUARD_KM and not ch.context_hits:
        return None  # guardrail: a junction far across London from the treating ED
    raw = raw_conf(_q(a, b), ch, "junction", len(cands))
    if not cue:
        raw *= 0.9
    if gap > 150:  # the streets' nearest postcode points are far apart: less sure
        raw *= max(0.6, 1.0 - (gap - 150) / 1000)
    reason = (
        f"junction of {ix.name[ia]} and {ix.name[ib]}"
        + (f", {ix.borough[ia]}" if ix.borough[ia] else "")
        + f" (closest approach of the two streets, {gap:.0f} m)"
    )
    if ch.context_hits:
        reason += "; agrees with " + ", ".join(ch.context_hits)
    if (
        len({(round(m[0], -3), round(m[1], -3)) for m in cands}) > 1
        and ch.ed_km is not None
        and not ch.context_hits
    ):
        reason += f"; nearest the department of several ({ch.ed_km:.1f} km)"
    return Loc(
        "junction",
        float(mx),
        float(my),
        max(50.0, gap / 2 + 40.0),
        raw,
        f"{ix.name[ia]} / {ix.name[ib]}",
        None,
        reason,
        (ix.key[ia], ix.key[ib]),
    )


def _q(a: SpanHit, b: SpanHit) -> SpanHit:
    how = (
        "exact" if a.how == b.how == "exact" else ("fuzzy" if "fuzzy" in (a.how, b.how) else "core")
    )
    return SpanHit(a.start, b.end, a.key + " / " + b.key, (), a.quality * b.quality, how)
