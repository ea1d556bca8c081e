"""Normalise ED free text: the gazetteer's name normal form plus ED shorthand.

On top of :func:`istvhub.gazetteer.normalise.normalise_name` this keeps two separators as tokens,
``/`` (junction: "acre ln / brixton hill") and ``,`` (context: "the dolphin, e8"), and expands the
receptionists' shorthand from ``data/gazetteer/ed_shorthand.csv`` (o/s, u/k, j/w, nr, pt, maccys).
The result is idempotent (normalising twice gives the same string) and the function never raises.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from istvhub.core.config import GAZETTEER_TABLES_DIR
from istvhub.gazetteer.normalise import ascii_fold, expand_tokens, load_abbreviations

SEPARATORS = ("/", ",")
#: words after which 'st' means street, not saint ("high st and church rd", "church st near...")
_ST_STREET_BEFORE = frozenset(
    "and or near outside opposite by in on at junction corner between off behind next / , "
    "north south east west station tube market estate shops bus".split()
)
_OSIDE = re.compile(r"\bo\s*/\s*side\b|\bo/s/o\b|\boutsid\b")
_SLASH_WORD = re.compile(r"\b([a-z])\s*/\s*([a-z])\b")
_PUNCT = re.compile(r"[^a-z0-9/, ]+")
_SPACES = re.compile(r"\s+")
_SEP_RUN = re.compile(r"(?:\s*[,/]\s*)+")
_POSTCODE_GLUE = re.compile(r"\b([a-z]{1,2}\d[a-z\d]?)(\d[a-z]{2})\b")


@lru_cache(maxsize=2)
def load_shorthand(path: str | None = None) -> dict[str, str]:
    """abbr -> expansion (lower case), from the data table."""
    p = Path(path) if path else GAZETTEER_TABLES_DIR / "ed_shorthand.csv"
    with p.open(encoding="utf-8") as fh:
        return {r["abbr"].strip().lower(): r["full"].strip().lower() for r in csv.DictReader(fh)}


@lru_cache(maxsize=2)
@lru_cache(maxsize=1)
def _street_type_words() -> frozenset[str]:
    """'cannon st rd': 'st' before a street type is street (Cannon Street Road)."""

    tab = load_abbreviations()
    return frozenset(
        [k for k, (_f, kind) in tab.items() if kind == "street_type" and k != "st"]
        + [f for k, (f, kind) in tab.items() if kind == "street_type"]
    )


@lru_cache(maxsize=2)
def _slash_pairs() -> dict[str, str]:
    return {k.replace("/", ""): v for k, v in load_shorthand().items() if "/" in k}


def _clean(text: str) -> str:
    s = ascii_fold(text).lower()
    s = s.replace("\\", "/").replace("&", " and ").replace("+", " and ")
    s = s.replace("'", "").replace("`", "")
    s = re.sub(r"\s-\s|\s-|-\s|;|:|\(|\)|\[|\]|\|", " , ", s)
    s = s.replace("-", " ").replace(".", " ")
    s = _OSIDE.sub(" outside ", s)  # "o/side", "o/s/o"
    # o/s, u/k, j/w, n/k...: join single letters around a slash so the table can expand them
    pairs = _slash_pairs()
    s = _SLASH_WORD.sub(
        lambda m: (
            f" {m.group(1)}{m.group(2)}slash " if (m.group(1) + m.group(2)) in pairs else m.group(0)
        ),
        s,
    )
    s = _PUNCT.sub(" ", s)
    s = _SEP_RUN.sub(lambda m: " / " if "/" in m.group(0) else " , ", s)
    return _SPACES.sub(" ", s).strip(" ,/")


def _expand(tokens: list[str]) -> list[str]:
    short = load_shorthand()
    pairs = _slash_pairs()
    out: list[str] = []
    for tok in tokens:
        if tok.endswith("slash") and tok[:-5] in pairs:
            out.extend(pairs[tok[:-5]].split())
        elif tok in short and "/" not in tok:
            out.extend(short[tok].split())
        else:
            out.append(tok)
    return out


def _expand_names(tokens: list[str]) -> list[str]:
    """Name abbreviations segment by segment (so 'st' before a separator is street)."""
    out: list[str] = []
    seg: list[str] = []

    def flush() -> None:
        fixed = []
        types = _street_type_words()
        for i, t in enumerate(seg):
            nxt = seg[i + 1] if i + 1 < len(seg) else None
            fixed.append(
                "street"
                if t == "st" and (nxt is None or nxt in _ST_STREET_BEFORE or nxt in types)
                else t
            )
        out.extend(expand_tokens(fixed))
        seg.clear()

    for tok in tokens:
        if tok in SEPARATORS:
            flush()
            out.append(tok)
        else:
            seg.append(tok)
    flush()
    return out


def normalise_text(text: object) -> str:
    """ED free text -> normal form: ``"O/S Maccys, Brixton Rd"`` -> ``"outside mcdonalds , brixton
    road"``. Never raises; None/NaN/non-text give ``""``."""
    if text is None:
        return ""
    try:
        if text != text:  # NaN
            return ""
    except Exception:  # noqa: BLE001 - exotic objects: fall through to str()
        pass
    try:
        s = _clean(str(text))
    except Exception:  # noqa: BLE001 - normalisation must never raise
        return ""
    if not s:
        return ""
    s = _POSTCODE_GLUE.sub(r"\1 \2", s)
    tokens = _expand_names(_expand(s.split()))
    # tidy separators: no leading/trailing/doubled separators
    res: list[str] = []
    for t in tokens:
        if t in SEPARATORS and (not res or res[-1] in SEPARATORS):
            continue
        res.append(t)
    while res and res[-1] in SEPARATORS:
        res.pop()
    return " ".join(res)
