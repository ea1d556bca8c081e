"""One normal form for place names, shared by the gazetteer keys and the geocoder's queries.

Lower case, ASCII, punctuation to spaces, ``&`` to ``and``, abbreviations expanded from
``data/gazetteer/abbreviations.csv`` (data, not code). "st" is the one ambiguous token: it means
*saint* when a name follows it ("st johns wood", "st pauls") and *street* when it ends the name or
precedes a postcode/direction ("high st", "brixton st e8").
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from istvhub.core.config import GAZETTEER_TABLES_DIR

_PUNCT = re.compile(r"[^a-z0-9/ ]+")
_SPACES = re.compile(r"\s+")
_POSTCODEISH = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")
#: kinds of abbreviation applied when normalising names (ED shorthand is applied by the geocoder)
NAME_KINDS = ("street_type", "place_word", "modifier", "spelling")


@lru_cache(maxsize=4)
def load_abbreviations(path: str | None = None) -> dict[str, tuple[str, str]]:
    """abbr -> (full, kind) from the CSV table."""
    p = Path(path) if path else GAZETTEER_TABLES_DIR / "abbreviations.csv"
    with p.open(encoding="utf-8") as fh:
        return {
            r["abbr"].strip().lower(): (r["full"].strip().lower(), r["kind"].strip())
            for r in csv.DictReader(fh)
        }


def ascii_fold(text: str) -> str:
    """Strip accents (café -> cafe) and drop anything non-ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def basic_clean(text: str | None) -> str:
    """Lower-case, ASCII, ``&``/``+`` to 'and', apostrophes removed (st john's -> st johns),
    other punctuation (except ``/``) to spaces, whitespace collapsed."""
    if not text:
        return ""
    s = ascii_fold(str(text)).lower()
    s = s.replace("&", " and ").replace("+", " and ").replace("'", "").replace("`", "")
    s = _PUNCT.sub(" ", s)
    return _SPACES.sub(" ", s).strip()


def expand_tokens(tokens: list[str], kinds: tuple[str, ...] = NAME_KINDS) -> list[str]:
    """Expand abbreviations of the given kinds; resolve 'st' as saint or street by position."""
    table = load_abbreviations()
    out: list[str] = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok == "st":
            nxt = tokens[i + 1] if i + 1 < n else None
            if nxt is None or _POSTCODEISH.match(nxt) or nxt in ("north", "south", "east", "west"):
                out.append("street")
            else:
                out.append("saint")
            continue
        hit = table.get(tok)
        if hit and hit[1] in kinds and hit[1] != "direction":
            out.extend(hit[0].split())
        else:
            out.append(tok)
    return out


def normalise_name(text: str | None) -> str:
    """The search key of a place name: ``"St. John's Wood Rd"`` -> ``"saint johns wood road"``."""
    s = basic_clean(text).replace("/", " ")
    if not s:
        return ""
    return " ".join(expand_tokens(s.split()))
