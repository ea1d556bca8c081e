"""The PII guard: refuse files with identifying columns; scrub identifiers out of free text.

ISTV shares *anonymised* data (ISB 1594): no name, date of birth, NHS number, address or patient
postcode may reach the hub. A file that carries such a column is rejected whole, naming the
column (never a value). Free text (location, weapon description) is scrubbed of NHS-number-like
tokens (10 digits passing the NHS modulus-11 check), telephone numbers and dates that look like
dates of birth, and the number of scrubs is reported.
"""

from __future__ import annotations

import re

import pandas as pd

from istvhub._errors import PIIRejected
from istvhub.ingest.headers import tokens

#: Words that qualify an address/postcode column as the *incident's* place, which is allowed.
_PLACE_WORDS = {
    "incident",
    "assault",
    "injury",
    "location",
    "place",
    "scene",
    "event",
    "site",
    "venue",
    "treatment",
    "hospital",
    "ed",
    "department",
    "provider",
    "organisation",
    "org",
    "lsoa",
    "sector",
    "district",
    "area",
}
_PERSON_WORDS = {
    "patient",
    "pt",
    "person",
    "client",
    "first",
    "last",
    "full",
    "given",
    "family",
    "middle",
    "maiden",
    "preferred",
    "known",
    "victim",
    "casualty",
}


def pii_reason(header: str) -> str | None:
    """Why a header names an identifying column, or None. Tolerant to case and punctuation."""
    t = tokens(header)
    if not t:
        return None
    s = set(t)
    joined = "".join(t)
    if (
        "nhs" in s
        and (s & {"number", "no", "num", "nbr", "id", "identifier"} or len(t) == 1)
        or joined in {"nhsnumber", "nhsno", "nhsnum", "nhsid"}
    ):
        return "NHS number column"
    if joined in {
        "chi",
        "chinumber",
        "mrn",
        "hospitalnumber",
        "hospitalno",
        "pasnumber",
        "pasid",
        "casenotenumber",
        "localpatientidentifier",
        "localpatientid",
        "patientid",
        "patientidentifier",
        "patientnumber",
        "ptid",
        "unitnumber",
        "medicalrecordnumber",
        "crn",
        "ninumber",
        "nationalinsurancenumber",
    }:
        return "patient identifier column"
    if s & {
        "forename",
        "forenames",
        "surname",
        "firstname",
        "lastname",
        "givenname",
        "familyname",
        "fullname",
        "middlename",
        "maidenname",
    }:
        return "name column"
    if "name" in s and (len(t) == 1 or s & _PERSON_WORDS):
        return "name column"
    if joined in {
        "dob",
        "dateofbirth",
        "birthdate",
        "birthdt",
        "dobdate",
        "datebirth",
        "personbirthdate",
        "birthday",
    } or ("birth" in s and ("date" in s or "dob" in s)):
        return "date of birth column"
    if "dob" in s:
        return "date of birth column"
    if (
        s & {"address", "addr", "address1", "addressline1", "addressline", "address2"}
        and not s & _PLACE_WORDS
    ):
        return "address column"
    if s & {"postcode", "postalcode", "zip", "zipcode"} or "postcode" in joined:
        if not s & _PLACE_WORDS or s & _PERSON_WORDS or s & {"home", "usual", "residence"}:
            return "patient postcode column"
    if s & {"phone", "telephone", "mobile", "email", "telno", "phonenumber"} or joined in {
        "tel",
        "telno",
        "email",
        "emailaddress",
        "contactnumber",
        "contactno",
    }:
        return "contact details column"
    if joined in {"nextofkin", "nok", "nokname"}:
        return "identifying column"
    return None


def check_headers(headers: list[str], file: str) -> None:
    """Raise :class:`PIIRejected` naming the first identifying column."""
    for h in headers:
        reason = pii_reason(str(h))
        if reason:
            raise PIIRejected(
                f"{reason}: identifying data must not be uploaded (ISTV shares anonymised data "
                "only); remove the column and upload again",
                file=file,
                field=str(h),
            )


# --- NHS numbers -------------------------------------------------------------------------------


def nhs_check_digit(first9: str) -> int | None:
    """NHS number modulus-11 check digit for 9 digits; None when 10 (such numbers are invalid)."""
    total = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value)
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = nhs_check_digit(digits[:9])
    return check is not None and check == int(digits[9])


_NHS_RE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_PHONE_RE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)\s?44\s?\(?0?\)?\s?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\d)"
)
_DATE_RE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})(?!\d)"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
    r"\s+(?:19|20)\d{2}\b"
    r"|\b(?:dob|d\.o\.b\.?|date of birth|born)\b[:\s]*\S*",
    re.I,
)
REMOVED = "[removed]"


def _scrub_one(text: str) -> tuple[str, int]:
    n = 0

    def nhs(m: re.Match[str]) -> str:
        nonlocal n
        if is_valid_nhs_number(m.group(0)):
            n += 1
            return REMOVED
        return m.group(0)

    text = _NHS_RE.sub(nhs, text)
    text, k = _PHONE_RE.subn(REMOVED, text)
    n += k
    text, k = _DATE_RE.subn(REMOVED, text)
    n += k
    return text, n


_CANDIDATE = (
    r"\d{6}|\d{3}[ -]\d{3}|\d[/.-]\d|\b(?:dob|d\.o\.b|born|date of birth)\b"
    r"|\d\s+[A-Za-z]{3}"
)


def scrub_text(s: pd.Series) -> tuple[pd.Series, int]:
    """Scrub free text; returns the cleaned Series and the number of tokens removed.

    Only rows that could hold an identifier (runs of digits, date-like text) go through the
    Python-level scrubber, so clean text costs one vectorised regex test.
    """
    if s.empty:
        return s, 0
    txt = s.astype("string")
    cand = txt.str.contains(_CANDIDATE, case=False, regex=True, na=False)
    if not cand.any():
        return txt, 0
    total = 0
    out = txt.copy()
    for idx, val in txt[cand].items():
        new, n = _scrub_one(str(val))
        if n:
            out.at[idx] = new
            total += n
    return out, total
