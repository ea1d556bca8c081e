"""Is a word part of a place name or of the narrative around it? A per-token prior from two
frequency tables: English (``wordfreq``'s small English list, words used at least once per
million) against the gazetteer's own name tokens.

The evidence for "place" of a token is ``log10 P(token | gazetteer names) - log10 P(token |
English)``: "brixton" (+2), "road" (+2) and "peckham" are place words; "males", "past",
"private", "down", "evening" are narrative words (negative), whatever names they sit near. A
typo correction is a second hypothesis with a cost per edit: correcting "males" to "wales" must
beat reading "males" as the English word it is, which it cannot (``edit_pays``). Why a prior and
not a longer phrase list: receptionists' narrative vocabulary is open-ended (weapons, times,
people, verbs), and English frequency covers all of it without anyone choosing the words.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from istvhub.geocode.candidates import PlaceIndex

#: log10 probability of one keyboard edit (a typo) turning an intended word into another
LOG_EDIT = -2.0
#: English frequency floor for words outside the small list (rarer than once per million)
EN_FLOOR = 1e-7


@lru_cache(maxsize=1)
def _english() -> dict[str, float]:
    """word -> frequency; the small list loads in ~0.05 s (the large one takes a second)."""
    from wordfreq import get_frequency_dict

    return dict(get_frequency_dict("en", wordlist="small"))


@lru_cache(maxsize=1)
def _common() -> tuple[str, ...]:
    """English words used at least ten times per million (zipf >= 4)."""
    return tuple(w for w, f in _english().items() if f >= 1e-5 and w.isalpha())


@lru_cache(maxsize=1)
def english_words() -> tuple[str, ...]:
    """Every alphabetic word of the small English list (once per million or more)."""
    return tuple(w for w in _english() if w.isalpha())


def english_freq(tok: str) -> float:
    """Frequency of ``tok`` in English text (0.0 when it is rarer than once per million)."""
    return _english().get(tok, 0.0)


def zipf(tok: str) -> float:
    """Zipf scale (log10 per billion words): 3 = once per million, 6 = 'the'-like."""
    f = english_freq(tok)
    return math.log10(f) + 9.0 if f > 0 else 0.0


class Lexicon:
    """Place-vs-narrative evidence per token for one gazetteer (built once per PlaceIndex)."""

    def __init__(self, vocab_freq: dict[str, int], n_names: int = 300_000) -> None:
        self.vocab_freq = vocab_freq
        self.n_names = float(max(n_names, 1))
        self.total = float(max(sum(vocab_freq.values()), 1))
        self._ev: dict[str, float] = {}
        self._near: dict[str, bool] = {}

    def gaz_freq(self, tok: str) -> float:
        """Share of gazetteer name tokens that are ``tok`` (half a count when absent)."""
        return max(self.vocab_freq.get(tok, 0), 0.5) / self.total

    def evidence(self, tok: str) -> float:
        """log10 odds that ``tok`` belongs to a place name rather than to narrative."""
        ev = self._ev.get(tok)
        if ev is None:
            if tok.isdigit() or not tok.isalnum():
                ev = 0.0
            else:
                ev = math.log10(self.gaz_freq(tok)) - math.log10(max(english_freq(tok), EN_FLOOR))
            self._ev[tok] = ev
        return ev

    def corrected_evidence(self, tok: str, word: str, edits: int) -> float:
        """Evidence for reading ``tok`` as the place word ``word`` at ``edits`` edits. A
        token that is no English word has no narrative reading: it is a typo of a name."""
        if english_freq(tok) <= 0.0:
            return max(self.evidence(word), 0.5)
        return (
            math.log10(self.gaz_freq(word))
            + LOG_EDIT * edits
            - math.log10(max(english_freq(tok), EN_FLOOR))
        )

    def edit_pays(self, tok: str, word: str, edits: int) -> bool:
        """A correction of an English word pays only when the place word, less the cost of
        the edits, is likelier than the word as written ("lame" -> "lane" yes: 'lane' is one
        of the commonest name words; "males" -> "wales", "past" -> "post" no). Words rarer
        than the English list are typos by default, as before."""
        if english_freq(tok) <= 0.0:
            return True
        return self.corrected_evidence(tok, word, edits) > 0.0

    def near_english(self, tok: str) -> bool:
        """One edit from a common English word (zipf >= 4): "somwhere", "stret"."""
        hit = self._near.get(tok)
        if hit is None:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            hit = len(tok) >= 4 and (
                process.extractOne(tok, _common(), scorer=OSA.distance, score_cutoff=1) is not None
            )
            self._near[tok] = hit
        return hit

    def name_evidence(self, words: list[str], n_entries: int) -> float:
        """log10 odds that words which are all English name one of the ``n_entries`` places
        called so, rather than being the English phrase they spell ("private land" is one
        park's name in OSM and a common phrase). The phrase's English frequency combines its
        words' as wordfreq does for phrases (1/f = sum of 1/f_i)."""
        inv = sum(1.0 / max(english_freq(w), EN_FLOOR) for w in words)
        phrase = 1.0 / inv if inv > 0 else EN_FLOOR
        return math.log10(max(n_entries, 1) / self.n_names) - math.log10(phrase)

    def is_narrative(self, tok: str) -> bool:
        """An English word commoner in English than in place names ("group", "males")."""
        return english_freq(tok) > 0.0 and self.evidence(tok) < 0.0


def lexicon_of(ix: PlaceIndex) -> Lexicon:
    """The index's Lexicon, built on first use (a race only builds it twice)."""
    lex = getattr(ix, "_lexicon", None)
    if lex is None:
        import pandas as pd

        counts = pd.Series(ix.etype).value_counts()  # a Python loop over 400k rows took 0.1 s
        n = int(sum(c for t, c in counts.items() if not str(t).startswith("postcode")))
        lex = ix._lexicon = Lexicon(ix.vocab_freq, n)
    return lex
