"""Chain names as place mentions: "tesco", "kfc", "maccys" name a branch of a shop chain
(data/gazetteer/chains.csv, whose aliases the gazetteer gives every branch), so the span
finder must not bar them as generic words, and a one-word one beside a sure street is the
shop, not narrative to drop. No imports from the rest of the geocoder (candidates uses it)."""

from __future__ import annotations

import csv
from functools import lru_cache

from istvhub.core.config import GAZETTEER_TABLES_DIR
from istvhub.gazetteer.normalise import normalise_name
from istvhub.geocode.lexicon import zipf

#: a one-word chain name rarer in English than this (Zipf) is a brand, never narrative:
#: "tesco" (3.3), "kfc", "maccys" are; "boots" (4.3), "subway", "costa", "iceland" are not
CHAIN_WORD_MAX_ZIPF = 3.45


@lru_cache(maxsize=1)
def chain_aliases() -> frozenset[str]:
    """Every normalised chain name and alias of data/gazetteer/chains.csv ("costa" too: a
    span the finder may read as the chain's branches)."""
    path = GAZETTEER_TABLES_DIR / "chains.csv"
    if not path.exists():
        return frozenset()
    out: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out |= {normalise_name(a) for a in [row["chain"], *row["aliases"].split("|")]}
    return frozenset(out - {""})


@lru_cache(maxsize=1)
def chain_names() -> frozenset[str]:
    """The chain names that are sure place mentions on their own: every multi-word one, and
    one-word ones that are no English word (a one-word "tesco" beside a sure street is the
    shop, not narrative to drop; "boots" beside one may be narrative)."""
    return frozenset(
        k
        for k in chain_aliases()
        if len(k.split()) > 1 or (len(k) >= 3 and zipf(k) < CHAIN_WORD_MAX_ZIPF)
    )
