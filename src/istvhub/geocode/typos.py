"""The typo corrector over a PlaceIndex's key vocabulary: 3-gram and length-bucket blocking
for a token missing from the vocabulary, one-deletion keys for real-word typos. Results are
memoised on the index (``_alts``, ``_near``, ``_correct``: per process, never saved)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from istvhub.geocode.lexicon import english_freq, english_words
from istvhub.geocode.vocab import GENERIC, STOPWORDS

if TYPE_CHECKING:
    from istvhub.geocode.candidates import PlaceIndex

_OUTWARD = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")


def grams(tok: str) -> set[str]:
    """The character 3-grams of the word, with ^ and $ marking its ends."""
    t = f"^{tok}$"
    return {t[i : i + 3] for i in range(len(t) - 2)}


def deletes(tok: str) -> set[str]:
    """The word and every string one deleted character from it."""
    return {tok, *(tok[:i] + tok[i + 1 :] for i in range(len(tok)))}


@lru_cache(maxsize=65536)
def _near_english(tok: str) -> bool:
    """One edit from a word of the small English list ("droped", "stabbde", "robbde")."""
    hit = process.extractOne(tok, english_words(), scorer=OSA.distance, score_cutoff=1)
    return hit is not None


def correct_uncached(ix: PlaceIndex, tok: str) -> tuple[str, float]:
    """(vocabulary token, similarity 0-1) for a token missing from the vocabulary; the other
    corrections about as close go to ``ix._alts``."""
    if (
        tok in ix.vocab_freq
        or len(tok) < 4
        or tok.isdigit()
        or tok in STOPWORDS
        or _OUTWARD.match(tok)
        or tok in GENERIC
        or tok in ix.protected
    ):
        return tok, 1.0
    tg = grams(tok)
    hits = [ix.gram_idx[g] for g in tg if g in ix.gram_idx]
    if not hits:
        return tok, 1.0
    ids, counts = np.unique(np.concatenate(hits), return_counts=True)
    keep = ids[counts >= max(1, min(len(tg) // 3, counts.max()))]
    if len(keep) > 400:
        keep = ids[np.argsort(-counts, kind="stable")[:400]]
    if len(tok) <= 8:
        extra = [
            e
            for n in (len(tok) - 1, len(tok), len(tok) + 1)
            if (e := ix.len_bucket.get((tok[0], n))) is not None
        ]
        if extra:
            keep = np.union1d(keep, np.concatenate(extra))
    choices = ix.vocab[keep].tolist()
    max_d = 1 if len(tok) <= 7 else (2 if len(tok) <= 11 else 3)
    res = process.extract(tok, choices, scorer=OSA.distance, score_cutoff=max_d, limit=12)
    if not res and max_d == 1 and len(tok) >= 6 and english_freq(tok) <= 0.0:
        # two slips in a six-letter name ("tufftn"), unless one slip makes an English word:
        # "droped" is dropped (one edit), never The Drop (checked only when a name is there)
        two = process.extract(tok, choices, scorer=OSA.distance, score_cutoff=2, limit=12)
        if any(w[0] == tok[0] for w, _d, _i in two) and not _near_english(tok):
            res = two
    if not res:
        return tok, 1.0
    # fewest edits, then same first letter, then the commoner word
    res = sorted(res, key=lambda r: (r[1], r[0][0] != tok[0], -ix.vocab_freq.get(r[0], 0)))
    out = []
    for word, d, _ in res:
        if word[0] != tok[0] and d > 1:  # first letters are rarely mistyped
            continue
        out.append((word, round(1.0 - 0.06 * d - 0.02 * (word[0] != tok[0]), 3)))
    if not out:
        return tok, 1.0
    ix._alts[tok] = [o for o in out[1:6] if o[1] >= out[0][1] - 1e-9]
    return out[0]


def near_words(ix: PlaceIndex, tok: str) -> list[str]:
    """Vocabulary words one edit from a word that is itself in the vocabulary: a real-word
    typo ("belham high road" for Balham) is only visible from the longer name it breaks."""
    hit = ix._near.get(tok)
    if hit is not None:
        return hit
    out: list[str] = []
    if len(tok) >= 5 and tok.isalpha() and tok not in GENERIC and tok not in STOPWORDS:
        # every word within one edit shares a one-deletion key with ``tok``; the ten
        # nearest in vocabulary order, as rapidfuzz's extract(limit=10) ranked them
        cand: set[int] = set()
        for k in deletes(tok):
            js = ix.del_idx.get(k)
            if js is not None:
                cand.update(js)
        vocab = ix.vocab
        scored = sorted(
            (d, j) for j in cand if (d := OSA.distance(tok, vocab[j], score_cutoff=1)) <= 1
        )
        out = [vocab[j] for d, j in scored[:10] if d == 1]
    ix._near[tok] = out
    return out
