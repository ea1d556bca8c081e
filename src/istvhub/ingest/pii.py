"""The PII guard: refuse files with identifying columns; scrub identifiers out of free text.

ISTV shares *anonymised* data (ISB 1594): no name, date of birth, NHS number, address or patient
postcode may reach the hub. A file that carries such a column is rejected whole, naming the
column (never a value). Free text is scrubbed by :mod:`istvhub.pii` (the one scrubber).
"""

from __future__ import annotations

import re

from istvhub._errors import PIIRejected
from istvhub.ingest.headers import tokens

# the NHS-number rule lives with the one free-text scrubber; re-exported for older callers
from istvhub.pii import REMOVED, is_valid_nhs_number, nhs_check_digit  # noqa: F401

#: 3-3-4 digit groups: the log checker's NHS-number-like token (tests/conftest.py)
_NHS_RE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")

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
