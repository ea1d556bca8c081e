"""Mentions: which runs of words are place names (tiled spans) and which words are left over
(the residual and the phrases between connector words)."""

from __future__ import annotations

from istvhub.geocode.candidates import STOPWORDS, SpanHit
from istvhub.geocode.normalise import SEPARATORS


def residual_words(tokens: list[str], chosen: list[SpanHit], taken: set[int]) -> str:
    """The longest run of words no span or postcode explained, trimmed of connector words."""
    used = set(taken)
    for c in chosen:
        used |= set(range(c.start, c.end))
    runs: list[list[str]] = [[]]
    for k, t in enumerate(tokens):
        if k in used or t in SEPARATORS:
            runs.append([])
        else:
            runs[-1].append(t)
    best = ""
    for run in runs:
        while run and (run[0] in STOPWORDS or run[0] in LEAD_WORDS):
            run = run[1:]
        while run and run[-1] in STOPWORDS:
            run = run[:-1]
        text = " ".join(run)
        if sum(len(t) for t in run if t not in STOPWORDS) >= 4 and len(text) > len(best):
            best = text
    return best


SEGMENT_BREAKS = frozenset("on in at by near opposite outside off inside along behind".split())


def segments_of(tokens: list[str], taken: set[int]) -> list[str]:
    """Phrases between connector words and separators ("the bar polski", "frith street")."""
    out: list[list[str]] = [[]]
    for k, t in enumerate(tokens):
        if k in taken or t in SEPARATORS or t in SEGMENT_BREAKS:
            out.append([])
        else:
            out[-1].append(t)
    res = []
    for seg in out:
        while seg and seg[0] in STOPWORDS:
            seg = seg[1:]
        while seg and seg[-1] in STOPWORDS:
            seg = seg[:-1]
        if sum(len(t) for t in seg) >= 4:
            res.append(" ".join(seg))
    return res


LEAD_WORDS = frozenset("bus stop shops shop outside".split())


def tile(spans: list[SpanHit], taken_tokens: set[int]) -> list[SpanHit]:
    """Non-overlapping spans, longest and best first, in text order."""
    chosen: list[SpanHit] = []
    used = set(taken_tokens)
    for s in sorted(spans, key=lambda s: (-(s.end - s.start), -s.quality, s.start)):
        rng = set(range(s.start, s.end))
        if rng & used:
            continue
        # single stopword-led spans ("at") never stand alone
        if s.end - s.start == 1 and s.key in STOPWORDS:
            continue
        chosen.append(s)
        used |= rng
    return sorted(chosen, key=lambda s: s.start)
