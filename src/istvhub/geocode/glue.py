"""Lost spaces: one token that is two words typed without the space between them.

Receptionists type fast: "nrhutchings st", "oncanal reach", "jennerrd", "brixtontown centre",
"culew stse1". Each glued token is in no vocabulary and is often too far from every gazetteer
word for the fuzzy correction to reach, so the place is lost. A token is split when it is no
word itself (not a gazetteer word, not an English word) and it reads as two words at one cut
with at least two edits fewer than the best correction of the whole token ("walworthrd" is
"walworth rd" with no edit, "walworth" with two; "atheton" is Atherton at one edit, never "at
heton"); a token no correction reaches must also not be one edit from a common English word.
Each part is a gazetteer word of four letters or more, a connector or shorthand word, a
street-type abbreviation or a London postcode district, or (one part at most, five letters or
more) a typo the correction stage can fix. Among the cuts the one with fewest edits and then the
commonest words wins. The split text is normalised again, so "nr" becomes "near" and "rd"
"road" as if the space had been typed.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA

from istvhub.gazetteer.normalise import load_abbreviations
from istvhub.geocode.candidates import STOPWORDS
from istvhub.geocode.lexicon import english_freq, lexicon_of
from istvhub.geocode.normalise import SEPARATORS, load_shorthand, normalise_text

_OUTWARD = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")
#: the shortest token worth splitting (two parts of at least two letters and three letters)
MIN_GLUED = 5
#: connector words, shorthand and districts count as the commonest words (e^20 occurrences):
#: "stse1" is "st se1", not "sts e1"
KNOWN_LOG_FREQ = 20.0


@lru_cache(maxsize=1)
def _short_words() -> frozenset[str]:
    """Connector words, ED shorthand and name abbreviations: known words however short."""
    short = {k for k in load_shorthand() if "/" not in k}
    abbr = set(load_abbreviations())
    return frozenset(STOPWORDS | short | abbr)


def _part_cost(ix: Any, part: str) -> tuple[int, float] | None:
    """(edits needed, -log frequency) to read ``part`` as a word, or None."""
    if part in _short_words():
        return 0, -KNOWN_LOG_FREQ
    if _OUTWARD.match(part):
        return (0, -KNOWN_LOG_FREQ) if part in ix.postcode else None
    if len(part) < 4 or not part.isalpha():
        return None
    f = ix.vocab_freq.get(part, 0)
    if f > 0:
        return 0, -math.log(f)
    if len(part) >= 5:
        c, _q = ix.correct_token(part)
        if c != part:
            return int(OSA.distance(part, c)), -math.log(max(ix.vocab_freq.get(c, 1), 1))
    return None


def split_token(ix: Any, tok: str) -> tuple[str, str] | None:
    """The two words a glued token was typed for, or None when it is a word (or a typo of one)."""
    if (
        len(tok) < MIN_GLUED
        or tok in SEPARATORS
        or tok in ix.vocab_freq
        or tok in _short_words()
        or tok.isdigit()
        or _OUTWARD.match(tok)
        or english_freq(tok) > 0.0
    ):
        return None
    whole = ix.correct_token(tok)[0]
    # a correction of the whole token wins unless the cut needs two edits fewer: a one-letter
    # typo of a name often spells two words ("atheton" is Atherton, not "at heton")
    whole_edits = int(OSA.distance(tok, whole)) if whole != tok else 99
    if whole_edits < 2 or (whole_edits == 99 and lexicon_of(ix).near_english(tok)):
        return None  # no cut can beat a one-edit correction by two edits
    best: tuple[tuple[int, float], tuple[str, str]] | None = None
    for i in range(2, len(tok) - 1):
        left, right = tok[:i], tok[i:]
        a = _part_cost(ix, left)
        if a is None:
            continue
        b = _part_cost(ix, right)
        if b is None or (a[0] > 0 and b[0] > 0):
            continue
        score = (a[0] + b[0], a[1] + b[1])
        if best is None or score < best[0]:
            best = (score, (left, right))
    return best[1] if best and best[0][0] + 2 <= whole_edits else None


def unglue(ix: Any, norm: str) -> str:
    """``norm`` with each glued token split and the result normalised again (idempotent)."""
    tokens = norm.split()
    out: list[str] = []
    changed = False
    for t in tokens:
        parts = split_token(ix, t)
        if parts:
            out.extend(parts)
            changed = True
        else:
            out.append(t)
    return normalise_text(" ".join(out)) if changed else norm
