"""Span lookup: the runs of a text's tokens that name gazetteer entries, through a PlaceIndex's
key dictionaries (exact, core, wrong street type) with each token's spelling alternatives."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from istvhub.geocode.chains import chain_names
from istvhub.geocode.vocab import GENERIC, NAME_ENDINGS, STOPWORDS, STREET_TYPE_WORDS

if TYPE_CHECKING:
    from istvhub.geocode.candidates import PlaceIndex


@dataclass(frozen=True)
class SpanHit:
    """A run of tokens [start, end) that names gazetteer entries."""

    start: int
    end: int
    key: str
    ids: tuple[int, ...]
    quality: float  # 1.0 exact; < 1 for typo-corrected or street-type-mismatched spans
    how: str  # exact | core | fuzzy
    qual: tuple[float, ...] = ()  # per-id quality when spelling alternatives were merged

    def quality_of(self, rows: list[int] | np.ndarray) -> np.ndarray:
        if not self.qual:
            return np.full(len(rows), self.quality)
        m = dict(zip(self.ids, self.qual, strict=True))
        return np.array([m.get(int(r), self.quality) for r in rows])


def _lookup(ix: PlaceIndex, span: list[str], q: float) -> tuple[np.ndarray, float, str] | None:
    """(rows, quality, how) of the entries one reading of a span names: its key, its core, or
    its core with another street type (None when it names nothing)."""
    key = " ".join(span)
    how = "exact" if q >= 0.999 else "fuzzy"
    ids = ix.by_key.get(key)
    if ids is not None:
        if span[0] == "the" and len(span) >= 2:  # "the coronet" also names "Coronet"
            rest = " ".join(span[1:])
            more = [a for a in (ix.by_key.get(rest), ix.by_core.get(rest)) if a is not None]
            if more:
                ids = np.unique(np.concatenate([ids, *more]))
        return ids, q, how
    ids = ix.by_core.get(key)
    if ids is not None:
        return ids, q * 0.9, "core"
    # a wrong street type ("acre road" for "acre lane"): core + any type
    if len(span) >= 2 and span[-1] in STREET_TYPE_WORDS:
        ids = ix.by_core.get(" ".join(span[:-1]))
        if ids is not None:
            st = ids[ix.etype[ids] == "street"]
            if len(st):
                return st, q * 0.8, "core"
    return None


def _reach(
    ix: PlaceIndex, tokens: list[str], alts: dict[int, list[tuple[str, float]]], i: int
) -> int:
    """The end of the longest run from ``i`` that starts some key, with any of each
    token's spelling alternatives in its place: no longer span can be a key."""
    states = [""]
    k = i
    while k < len(tokens):
        words = [tokens[k], *(w for w, _ in alts.get(k, ()))]
        nxt = {p for s in states for w in words if (p := f"{s} {w}" if s else w) in ix.key_prefixes}
        if not nxt:
            break
        states = list(nxt)
        k += 1
    return k


def find_spans(
    ix: PlaceIndex,
    tokens: list[str],
    quality: list[float],
    alts: dict[int, list[tuple[str, float]]] | None = None,
) -> list[SpanHit]:
    """All spans (not crossing separators) naming a gazetteer entry, longest first. Where a
    typo had several equally close corrections, every one that names a place is kept (with
    its own quality) so that context and distance choose between them."""
    hits: list[SpanHit] = []
    n = len(tokens)
    alts = alts or {}
    for i in range(n):
        if tokens[i] in ("/", ","):
            continue
        reach = _reach(ix, tokens, alts, i)
        for j in range(min(n, i + ix.max_len), i, -1):
            # longer than any key (or a key plus a wrong street type) can be: only the
            # real-word-typo reading below could still name a place
            if j > reach + 1 and not (2 <= j - i <= 4 and tokens[j - 1] in NAME_ENDINGS):
                continue
            span = tokens[i:j]
            if "/" in span or "," in span:
                continue
            key = " ".join(span)
            chain = j - i == 1 and span[0] in chain_names()  # "tesco": a shop (venues.py)
            if all(t in STOPWORDS for t in span) or (
                j - i == 1 and span[0] in ix.protected and not chain
            ):
                continue
            if (
                not chain
                and all(t in STOPWORDS or t in GENERIC or t.isdigit() for t in span)
                and (
                    key not in ix.by_key
                    or (
                        len(span) == 1
                        and not any(
                            ix.etype[k] in ("station", "area") for k in ix.by_key[key].tolist()
                        )
                    )
                )
            ):
                continue
            q = math.prod(quality[i:j])
            variants = [(span, q)]
            for k in range(i, j):
                for word, wq in alts.get(k, ()):
                    v = list(span)
                    v[k - i] = word
                    variants.append((v, q / max(quality[k], 1e-9) * wq))
            found = [(v, r) for v, vq in variants if (r := _lookup(ix, v, vq)) is not None]
            if not found and 2 <= j - i <= 4 and span[-1] in NAME_ENDINGS:
                for k in range(i, j - 1):
                    for word in ix.near_words(tokens[k]):
                        v = list(span)
                        v[k - i] = word
                        ids = ix.by_key.get(" ".join(v))
                        if ids is not None:
                            found.append((v, (ids, q * 0.9, "fuzzy")))
            if not found:
                continue
            if len(found) == 1:
                v, (ids, fq, how) = found[0]
                hits.append(SpanHit(i, j, " ".join(v), tuple(ids.tolist()), fq, how))
                continue
            best_v, (_, bq, bhow) = max(found, key=lambda f: f[1][1])
            all_ids: list[int] = []
            all_q: list[float] = []
            for _, (ids, fq, _h) in found:
                if fq < bq - 0.02:  # only readings as good as the best one
                    continue
                for r in ids.tolist():
                    if r not in all_ids:
                        all_ids.append(r)
                        all_q.append(fq)
            hits.append(SpanHit(i, j, " ".join(best_v), tuple(all_ids), bq, bhow, tuple(all_q)))
    return hits
