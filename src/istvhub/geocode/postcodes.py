"""Postcode extraction from normalised tokens: full unit, sector, district.

Only the shape is checked here; the geocoder validates what it finds against the gazetteer's
postcode index (so "a23" or "m25" never pass as districts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OUTWARD = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")
INWARD = re.compile(r"^\d[a-z]{2}$")
SECTOR_DIGIT = re.compile(r"^\d[a-z]?$")


@dataclass(frozen=True)
class PostcodeHit:
    kind: str  # postcode | postcode_sector | postcode_district
    key: str  # lower case: unit "sw21aa", sector "sw2 1", district "sw2"
    start: int
    end: int


_DIGIT_LOOKALIKE = str.maketrans({"o": "0", "i": "1", "l": "1"})


def _inward(tok: str) -> str:
    """'oaa' -> '0aa': the digit of an inward code typed as a letter (O for 0, I/l for 1)."""
    if len(tok) == 3 and tok[0] in "oil" and tok[1:].isalpha():
        return tok[0].translate(_DIGIT_LOOKALIKE) + tok[1:]
    return tok


def find_postcodes(tokens: list[str]) -> list[PostcodeHit]:
    """Every postcode-shaped run: 'sw2 1aa' (unit), 'sw2 1' (sector), 'sw2' (district)."""
    out: list[PostcodeHit] = []
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if OUTWARD.match(t):
            nxt = tokens[i + 1] if i + 1 < n else ""
            if not INWARD.match(nxt) and INWARD.match(_inward(nxt)):
                nxt = _inward(nxt)
            if INWARD.match(nxt):
                out.append(PostcodeHit("postcode", t + nxt, i, i + 2))
                i += 2
                continue
            if SECTOR_DIGIT.match(nxt):
                out.append(PostcodeHit("postcode_sector", f"{t} {nxt[0]}", i, i + 2))
                i += 2
                continue
            out.append(PostcodeHit("postcode_district", t, i, i + 1))
        i += 1
    return out
