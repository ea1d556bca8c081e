"""Scrub personal data out of location free text before it is parsed, cached or explained.

Receptionists sometimes type more than a place: a phone number, an NHS number, a date of birth,
an email, a name after a title ("mr smith"), a house number. None of it helps locate an assault,
and none of it may reach logs, reasons or exports. If the ingest stage's guard
(``istvhub.ingest.pii.scrub_text``) is present it is used as well.
"""

from __future__ import annotations

import re

_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # email
    re.compile(r"\b\d{3}[\s-]?\d{3}[\s-]?\d{4}\b"),  # NHS number / 10-digit phone
    re.compile(r"(?:\+44\s?|\b0)(?:\d[\s-]?){9,10}\b"),  # UK phone
    re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"),  # dates (DOB)
    re.compile(
        r"\b(?:dob|d\.o\.b\.?|nhs\s*(?:no|number)?|tel|phone|mob|mobile)\b[\s:.#]*[\w/.-]*", re.I
    ),
    # a title followed by one or two words: a person's name
    re.compile(r"\b(?:mr|mrs|ms|miss|mx|dr)\b\.?\s+[a-z][\w-]*(?:\s+[A-Z][\w-]*)?", re.I),
    re.compile(r"\b(?:name|called|named)\b\s*[:\-]?\s*[a-z][\w-]*(?:\s+[A-Z][\w-]*)?", re.I),
    re.compile(r"\b\d{5,}\b"),  # other long numbers (hospital numbers, MRNs)
]


_FLATNO = re.compile(r"\b(flat|apt|apartment|unit|room)\s*\d+[a-z]?\b", re.I)
_HOUSENO = re.compile(r"\b\d{1,4}[a-z]?\b(?=\s+[a-z])", re.I)
_DISTRICT_BEFORE = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s*$", re.I)


def _house_number(m: re.Match[str]) -> str:
    # "sw2 1 brixton": the digit completes a postcode sector, keep it
    if _DISTRICT_BEFORE.search(m.string[: m.start()]):
        return m.group(0)
    return " "


def scrub_text(text: str | None) -> tuple[str, int]:
    """Return (text with personal data removed, number of removals). Never raises."""
    if not text:
        return "", 0
    s = str(text)
    n = 0
    for pat in _PATTERNS:
        s, k = pat.subn(" ", s)
        n += k
    s, k = _FLATNO.subn(lambda m: f" {m.group(1)} ", s)  # keep the word: 'flat' means home
    n += k
    before = s
    s = _HOUSENO.sub(_house_number, s)
    n += int(s != before)
    try:  # the ingest stage's guard (valid NHS numbers, phones, dates) adds its own rules
        from istvhub.ingest.pii import REMOVED, _scrub_one

        s, k2 = _scrub_one(s)
        s = s.replace(REMOVED, " ")
        n += int(k2)
    except Exception:  # noqa: BLE001 - optional; our own rules already ran
        pass
    return re.sub(r"\s+", " ", s).strip(), n
