"""Narrative-robustness set: every locatable dev text with narrative drawn at random from the
5,000 commonest English words (``wordfreq``), in short templates before and after the place.

Nobody here picked the words, so tuning the geocoder to a phrase list cannot move this figure.
The only words left out are those the project's own phrase tables say name a home or a place
outside London ("home", "flat", "manchester", "spain"): with one of those beside it the text's
truth changes, so it is not narrative. Words that are also London places ("bank", "angel",
"green", "city", "victoria") stay in: that is exactly the risk being measured.
"""

from __future__ import annotations

import random
from functools import lru_cache

import pandas as pd

from istvhub.geocode.classify import load_phrases

TEMPLATES = [
    "{a} {b} {p}",
    "{a} {p}",
    "{a} {b} {c} {p}",
    "{p} {a}",
    "{p} {a} {b}",
    "{p} - {a} {b} {c}",
    "{p} ({a} {b})",
    "{p}, {a} {b}",
    "{a} {p} {b}",
]


@lru_cache(maxsize=2)
def common_words(n: int = 5000) -> tuple[str, ...]:
    """The n commonest English words, alphabetic only, without home/outside-area words."""
    from wordfreq import top_n_list

    phrases = load_phrases()
    drop = {p for p, cat in phrases.items() if " " not in p and cat in ("home", "outside_area")}
    return tuple(w for w in top_n_list("en", n) if w.isalpha() and w not in drop)


def narrative_set(gt: pd.DataFrame, seed: int = 0, n_words: int = 5000) -> pd.DataFrame:
    """Locatable rows of ``gt`` with random common words around the text (same truth), and a
    ``base_text`` column so the drop can be measured row by row."""
    words = common_words(n_words)
    rng = random.Random(f"narrative:{seed}")
    loc = gt[gt["expect"].eq("located")].reset_index(drop=True)
    texts = [
        rng.choice(TEMPLATES).format(
            p=t, a=rng.choice(words), b=rng.choice(words), c=rng.choice(words)
        )
        for t in loc["text"]
    ]
    return loc.assign(base_text=loc["text"], text=texts, family="wordfreq")
