"""Rank candidate points with priors and say when the honest answer is "ambiguous".

Score of a candidate = match quality + context bonus (district, area, borough named in the text)
+ entry-type prior + a log-distance prior from the receiving department (most assaults happen
within a few km of the ED that treats them). Candidates of the same name close together (one
long street split by postcode district) are one group; if a candidate *far* from the best scores
almost as well, the text is ambiguous rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

#: prior by entry type when one name hits several kinds of place
TYPE_PRIOR = {
    "junction": 0.05,
    "station": 0.1,
    "hospital": 0.04,
    "venue": 0.02,
    "school": 0.0,
    "street": 0.03,
    "area": 0.0,
    "borough": -0.02,
    "bus_stop": -0.06,
    "cycle_dock": -0.06,
    "postcode": 0.1,
    "postcode_sector": 0.0,
    "postcode_district": 0.0,
}
ED_PRIOR_WEIGHT = 0.12  # score lost per e-fold of (1 + km from the department)
CONTEXT_BONUS = 0.35
CONTEXT_PENALTY = 0.2
AMBIGUITY_MARGIN = 0.06
SAME_PLACE_M = 1500.0  # candidates closer than this are the same place for ambiguity
#: a same-name candidate in the receiving department's own borough (its catchment): worth more
#: than the ambiguity margin, less than any place the text itself names (CONTEXT_BONUS)
ED_BOROUGH_BONUS = 0.1


class EdPoint(NamedTuple):
    """The receiving department's point (easting, northing) and borough, when known."""

    x: float
    y: float
    borough: str | None = None


@dataclass
class Context:
    """A place named in the text besides the main subject: a postcode district, an area..."""

    kind: str  # postcode_sector | postcode_district | area | borough | street
    name: str
    xs: np.ndarray
    ys: np.ndarray
    radius: float
    borough: str | None = None
    district: str | None = None  # postcode district named in the text ("SE1")


@dataclass
class Choice:
    best: int
    score: float
    margin: float  # best score minus the best far-away rival (inf when no rival)
    ambiguous: bool
    context_hits: list[str] = field(default_factory=list)
    context_misses: list[str] = field(default_factory=list)
    n_rivals: int = 0
    ed_km: float | None = None


def context_bonus(
    x: np.ndarray,
    y: np.ndarray,
    boroughs: np.ndarray | None,
    ctx: Context,
    districts: np.ndarray | None = None,
) -> np.ndarray:
    """Bonus for candidates within the context's radius, penalty for ones far outside it.
    A postcode district named in the text is matched by the candidates' own district."""
    if ctx.district and districts is not None:
        known = np.array([d is not None for d in districts])
        same = np.array([d is not None and str(d).upper() == ctx.district for d in districts])
        if known.any():
            near = context_bonus(
                x, y, None, Context(ctx.kind, ctx.name, ctx.xs, ctx.ys, ctx.radius)
            )
            # a candidate of another district agrees only if it lies within the district's
            # radius (a near-miss district, "milk st ec4" for EC2); "fort street e16" does not
            # agree with the City's Fort Street (E1) because E16's 3-radius band reaches it
            other = np.where(near >= CONTEXT_BONUS, 0.5 * CONTEXT_BONUS, -CONTEXT_PENALTY)
            return np.where(same, CONTEXT_BONUS, np.where(known, other, near))
    if ctx.kind == "borough" and boroughs is not None and ctx.borough:
        same = np.array([b is not None and str(b).lower() == ctx.borough.lower() for b in boroughs])
        if same.any():
            return np.where(same, CONTEXT_BONUS, -CONTEXT_PENALTY)
    d = np.min(np.hypot(x[:, None] - ctx.xs[None, :], y[:, None] - ctx.ys[None, :]), axis=1)
    r = max(ctx.radius, 300.0)
    inside = d <= r
    near = (d > r) & (d <= 3 * r)
    out = np.full(len(x), -CONTEXT_PENALTY)
    out[inside] = CONTEXT_BONUS
    out[near] = CONTEXT_BONUS * (1 - (d[near] - r) / (2 * r))
    return out


def _main_piece(
    x: np.ndarray, y: np.ndarray, score: np.ndarray, precision: np.ndarray, best: int
) -> int:
    """Among equal-scoring pieces of one place (a street crossing a borough boundary is one
    entry per borough), the piece that holds most of it: the widest spread of points. The first
    in index order would otherwise win: Old Kent Road was answered at its 116 m Lewisham end."""
    tied = np.flatnonzero(score >= score[best] - 1e-9)
    if tied.size < 2:
        return best
    reach = np.maximum(SAME_PLACE_M, precision[tied] + precision[best])
    pieces = tied[np.hypot(x[tied] - x[best], y[tied] - y[best]) <= reach]
    return int(pieces[np.argmax(precision[pieces])]) if pieces.size > 1 else best


def choose(
    x: np.ndarray,
    y: np.ndarray,
    quality: np.ndarray,
    types: np.ndarray,
    boroughs: np.ndarray | None,
    contexts: list[Context],
    ed_xy: EdPoint | None,
    precision: np.ndarray | None = None,
    districts: np.ndarray | None = None,
) -> Choice:
    """Pick the best candidate; flag ambiguity between far-apart near-equal candidates."""
    score = quality.astype(float).copy()
    score += np.array([TYPE_PRIOR.get(str(t), 0.0) for t in types])
    ctx_scores = []
    for ctx in contexts:
        b = context_bonus(x, y, boroughs, ctx, districts)
        ctx_scores.append(b)
        score += b
    ed_d = None
    if ed_xy is not None:
        ed_d = np.hypot(x - ed_xy.x, y - ed_xy.y)
        score -= ED_PRIOR_WEIGHT * np.log1p(ed_d / 1000.0)
        if ed_xy.borough and boroughs is not None:
            home = ed_xy.borough.lower()
            score += ED_BOROUGH_BONUS * np.array(
                [b is not None and str(b).lower() == home for b in boroughs]
            )
    best = int(np.argmax(score))
    if precision is not None:
        best = _main_piece(x, y, score, precision, best)
    same = (
        SAME_PLACE_M if precision is None else np.maximum(SAME_PLACE_M, precision + precision[best])
    )
    far = np.hypot(x - x[best], y - y[best]) > same
    rivals = score[far]
    margin = float(score[best] - rivals.max()) if rivals.size else float("inf")
    hits = [c.name for c, b in zip(contexts, ctx_scores, strict=True) if b[best] > 0]
    misses = [c.name for c, b in zip(contexts, ctx_scores, strict=True) if b[best] <= 0]
    return Choice(
        best=best,
        score=float(score[best]),
        margin=margin,
        ambiguous=bool(rivals.size and margin < AMBIGUITY_MARGIN),
        context_hits=hits,
        context_misses=misses,
        n_rivals=int((rivals >= score[best] - 0.3).sum()) if rivals.size else 0,
        ed_km=float(ed_d[best] / 1000.0) if ed_d is not None else None,
    )
