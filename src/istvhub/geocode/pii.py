"""Location text made fit to parse, cache and explain: identifiers out, house numbers out.

The identifiers (e-mail, phone, NHS number, date of birth, names, a home address's number and
inward code) are removed by the package's one scrubber, :func:`istvhub.pii.scrub_text`. On top,
for geocoding only, every house or flat number and any other long number goes: none of them
helps locate an assault at street-block level, and none may reach logs, reasons or exports.
"""

from __future__ import annotations

import re

from istvhub.pii import REMOVED
from istvhub.pii import scrub_text as _scrub_identifiers

_LONG_NUMBER = re.compile(r"\b\d{5,}\b")  # hospital numbers, MRNs, crime references
_FLATNO = re.compile(r"\b(flat|apt|apartment|unit|room)\s*\d+[a-z]?\b", re.I)
_HOUSENO = re.compile(r"\b\d{1,4}[a-z]?\b(?=\s+[a-z])", re.I)
_DISTRICT_BEFORE = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s*$", re.I)


def _house_number(m: re.Match[str]) -> str:
    # "sw2 1 brixton": the digit completes a postcode sector, keep it
    if _DISTRICT_BEFORE.search(m.string[: m.start()]):
        return m.group(0)
    return " "


def scrub_location(text: str | None) -> tuple[str, int]:
    """(location text without personal data or house numbers, number of removals). Never
    raises."""
    if not text:
        return "", 0
    s, n = _scrub_identifiers(str(text))
    s = s.replace(REMOVED, " ")
    s, k = _LONG_NUMBER.subn(" ", s)
    n += k
    s, k = _FLATNO.subn(lambda m: f" {m.group(1)} ", s)  # keep the word: 'flat' means home
    n += k
    before = s
    s = _HOUSENO.sub(_house_number, s)
    n += int(s != before)
    return re.sub(r"\s+", " ", s).strip(), n
