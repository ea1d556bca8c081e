"""The one scrubber of personal identifiers in free text (location, weapon description, any text).

ISTV shares anonymised data (ISB 1594), but receptionists type what the patient says: an e-mail,
a phone number, an NHS number, a date of birth, a name, the patient's own address. None of it
may be stored. :func:`scrub_text` replaces each identifier with ``[removed]`` and says which
kinds it removed, so the ingest report can warn per row and field without quoting the value.

What is removed (issue 14, point 2):

- e-mail addresses;
- phone numbers, UK and international (``phonenumbers``, Google's libphonenumber port: a UK
  number must start with 0, an international one with + or 00, at least 9 digits);
- NHS numbers in any spacing or punctuation ("999.000.0018", "999 000  0026") when the
  modulus-11 check digit holds (other 10-digit runs are kept: they are often crime references);
- dates in numeric or written form ("03/04/1988", "12 March 1990", "March 12, 1987"), and a
  birth word (dob, born, date of birth) together with what follows it;
- names after a title ("Mr Jonathan Q Smithers", "mrs patel") or a person word ("pt John Smith",
  "victim Ann Lee"), and a common first name followed by a capitalised surname ("John Smith");
- next to a home word (home, flat, address, residence...): house numbers and the inward code of
  a full postcode ("at home, 12 Acacia Avenue SE1 7EH" -> "at home, Acacia Avenue SE1"). The
  street and the postcode district stay: they place the home in its area without the address.

Word lists are data (``src/istvhub/data/pii.toml``). False removals of place names are measured
by ``benchmarks/pii_false_removals.py`` on the gazetteer's names and the geocoder dev texts.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

import pandas as pd

REMOVED = "[removed]"
_MAX = 2000  # characters scrubbed per cell (stored text is cut at 255 anyway)

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
#: ten digits with up to three separators (space, dot, dash, slash) between any two
_TEN_DIGITS = re.compile(r"(?<![\d])\d(?:[ \t./-]{0,3}\d){9}(?![\d])")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR4 = r"(?:19|20)\d{2}"
_DATE = (
    r"(?:\d{1,2}\s?[/.-]\s?\d{1,2}\s?[/.-]\s?(?:19|20)?\d{2}(?!\d)"
    rf"|{_YEAR4}[/.-]\d{{1,2}}[/.-]\d{{1,2}}(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?[\s/-]+{_MONTH}\b\.?,?[\s/-]+(?:{_YEAR4}|'?\d{{2}})\b"
    rf"|{_MONTH}\b\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR4}\b)"
)
_BIRTH = re.compile(
    r"\b(?:dob|d\s?\.\s?o\s?\.\s?b\b\.?|date\s+of\s+birth|birth\s*date|birthday|born)\b"
    rf"(?:\s+(?:on|in))?[\s:.#-]*(?:{_DATE}|{_MONTH}\b\.?\s+{_YEAR4}\b|{_YEAR4}\b|[\w/.-]*\d[\w/.-]*)?",
    re.I,
)
_DATES = re.compile(rf"(?<![\w]){_DATE}", re.I)
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.I)
_HOUSE_NO = re.compile(r"(?<![\w/])\d{1,4}[a-z]?(?:\s?-\s?\d{1,4}[a-z]?)?\b,?(?=\s+[a-z])", re.I)
_FLAT_NO = re.compile(r"\b(flat|apt|apartment|room|unit)\s*(?:no\.?\s*)?\d+[a-z]?\b", re.I)
_WORD = r"[A-Za-z][A-Za-z'\-]*(?!\w)"
_CAP = r"(?:[A-Z][A-Za-z'\-]+|[A-Z]\.?)(?!\w)"  # capitalised word or an initial
#: a saint or a pub before a name: "St Mary Axe", "The Thomas Neale", "Our Lady ..."
_PLACE_BEFORE = re.compile(
    r"(?<!\w)(?:st|st\.|saint|the|our|great|king|queen|prince|duke)\s*$", re.I
)


@lru_cache(maxsize=1)
def _lists() -> dict[str, frozenset[str]]:
    raw = tomllib.loads(resources.files("istvhub.data").joinpath("pii.toml").read_text("utf-8"))
    return {k: frozenset(str(w).lower() for w in v) for k, v in raw.items()}


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    w = _lists()
    titles = "|".join(sorted(w["titles"], key=len, reverse=True))
    persons = "|".join(sorted(w["person_words"], key=len, reverse=True))
    firsts = "|".join(sorted(w["first_names"], key=len, reverse=True))
    homes = "|".join(sorted(w["home_words"], key=len, reverse=True))
    return {
        # title + one word of any case + up to two more capitalised words / initials
        "title": re.compile(rf"\b(?P<t>{titles})\b\.?\s+(?P<n>{_WORD}(?:\s+{_CAP}){{0,2}})", re.I),
        # person word (not possessive) + one to three capitalised words
        "person": re.compile(rf"\b(?i:{persons})\b(?!')[\s:.,-]+(?P<n>{_CAP}(?:\s+{_CAP}){{0,2}})"),
        "first": re.compile(rf"\b(?P<f>(?i:{firsts}))\s+(?P<n>{_CAP}(?:\s+{_CAP})?)"),
        "home": re.compile(rf"\b(?:{homes})\b", re.I),
        "candidate": re.compile(rf"\d|@|\b(?:{titles}|{persons}|{firsts}|dob|born|birth)\b", re.I),
    }


def _is_place_word(w: str) -> bool:
    """A place word, also misspelt by one letter ("Strreet", "Raod")."""
    places = _lists()["place_words"]
    if w in places:
        return True
    if len(w) < 5:
        return False
    from rapidfuzz.distance import Levenshtein

    return any(Levenshtein.distance(w, p, score_cutoff=1) <= 1 for p in places if len(p) >= 4)


def _not_name(word: str) -> bool:
    w = word.lower().strip(".,'")
    return _is_place_word(w) or w in _lists()["function_words"]


def _name_words(span: str, after: str, *, context: bool) -> str | None:
    """The leading words of ``span`` that can be a name (stops at a place or function word);
    None when they are a place's name: a place word follows ("Thomas More Square", "Victoria
    Street"). After a title or person word (``context``) only a one-word name can be a place's
    ("Dr Johnson House"); "pt John Smith bus stop" is a name."""
    keep: list[str] = []
    words = span.split()
    for word in words:
        if _not_name(word) or any(c.isdigit() for c in word):
            break
        keep.append(word)
    if not keep:
        return None
    following = [*words[len(keep) :], *after.split()[:1]]
    nxt = re.sub(r"'s$", "", following[0].lower().strip(".,")) if following else ""
    if nxt != "home" and _is_place_word(nxt) and (not context or len(keep) == 1):
        return None
    return " ".join(keep)


def _phones(text: str) -> list[tuple[int, int]]:
    """Spans of phone numbers: UK national (leading 0) or international (+ or 00)."""
    if sum(c.isdigit() for c in text) < 9:
        return []
    import phonenumbers

    spans = []
    for m in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE):
        raw = m.raw_string.lstrip("(")
        digits = sum(c.isdigit() for c in raw)
        if digits >= 9 and (raw.startswith(("+", "00")) or raw.startswith("0")):
            spans.append((m.start, m.end))
    return spans


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
    """Ten digits (any separators) whose last is the modulus-11 check digit of the first nine."""
    digits = re.sub(r"\D", "", value)
    if len(digits) != 10 or len(value) > 19:
        return False
    check = nhs_check_digit(digits[:9])
    return check is not None and check == int(digits[9])


def _sub_spans(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + REMOVED + text[end:]
    return text


def scrub_detail(text: str) -> tuple[str, list[str]]:
    """(text with identifiers removed, kinds removed, one entry per removal). Never raises."""
    if not text:
        return text, []
    s = str(text)[:_MAX]
    kinds: list[str] = []
    pats = _patterns()
    if not pats["candidate"].search(s):
        return s, kinds

    def sub(pattern: re.Pattern[str], kind: str, s: str) -> str:
        out, k = pattern.subn(REMOVED, s)
        kinds.extend([kind] * k)
        return out

    s = sub(_EMAIL, "e-mail", s)

    def nhs(m: re.Match[str]) -> str:
        if is_valid_nhs_number(m.group(0)):
            kinds.append("NHS number")
            return REMOVED
        return m.group(0)

    s = _TEN_DIGITS.sub(nhs, s)
    s = sub(_BIRTH, "date of birth", s)
    s = sub(_DATES, "date", s)
    spans = _phones(s)
    if spans:
        kinds.extend(["phone number"] * len(spans))
        s = _sub_spans(s, spans)
    s = _scrub_names(s, kinds)
    if pats["home"].search(s):
        s = _scrub_home_address(s, kinds)
    return s, kinds


def _scrub_names(s: str, kinds: list[str]) -> str:
    pats = _patterns()

    def title(m: re.Match[str]) -> str:
        before = m.string[: m.start()].rstrip()
        if m.group("t").lower() == "dr":  # "Acacia Dr": Drive, not a doctor
            prev = before.split()[-1] if before.split() else ""
            if not m.group("n")[:1].isupper() or (prev[:1].isalpha() and not _not_name(prev)):
                return m.group(0)
        name = _name_words(m.group("n"), m.string[m.end() :], context=True)
        if name is None or _PLACE_BEFORE.search(before):
            return m.group(0)
        kinds.append("name")
        rest = m.group("n")[len(name) :]
        return f"{m.group('t')} {REMOVED}{rest}"

    s = pats["title"].sub(title, s)

    shouting = not any(c.islower() for c in s)  # all capitals: capitalisation says nothing

    def person(m: re.Match[str]) -> str:
        if shouting and m.group("n").split()[0].lower() not in _lists()["first_names"]:
            return m.group(0)  # "PT UNABLE TO SAY"; "PT JOHN SMITH" still goes
        name = _name_words(m.group("n"), m.string[m.end() :], context=True)
        if name is None:
            return m.group(0)
        kinds.append("name")
        head = m.group(0)[: m.start("n") - m.start()]
        return f"{head}{REMOVED}{m.group('n')[len(name) :]}"

    s = pats["person"].sub(person, s)

    def first(m: re.Match[str]) -> str:
        if not m.group("f")[:1].isupper() or _PLACE_BEFORE.search(m.string[: m.start()]):
            return m.group(0)
        name = _name_words(m.group("n"), m.string[m.end() :], context=False)
        if name is None:
            return m.group(0)
        kinds.append("name")
        return f"{REMOVED}{m.group('n')[len(name) :]}"

    return pats["first"].sub(first, s)


def _scrub_home_address(s: str, kinds: list[str]) -> str:
    """A home word in the text: the house number and the postcode's inward code identify the
    patient's address; the street and the district do not on their own."""
    s, k = _POSTCODE.subn(lambda m: m.group(1), s)
    kinds.extend(["home postcode"] * k)
    s, k = _FLAT_NO.subn(lambda m: m.group(1), s)
    kinds.extend(["home address number"] * k)

    def house(m: re.Match[str]) -> str:
        before = s[: m.start()]
        if re.search(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*$", before, re.I):
            return m.group(0)  # "SE1 7": part of a postcode sector
        kinds.append("home address number")
        return ""

    s = _HOUSE_NO.sub(house, s)
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"\s+,", ",", s)).strip()


def scrub_text(text: str | None) -> tuple[str, int]:
    """(text with identifiers replaced by ``[removed]``, number of removals). Never raises."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return "", 0
    out, kinds = scrub_detail(str(text))
    return out, len(kinds)


#: below this many distinct values the candidate test runs in Python on each distinct value:
#: pandas' Arrow strings re-parse a 1,600-character pattern on every call (~10 ms), which was
#: most of the fixed cost of ingesting a 100-row file (issue 16)
_SMALL = 4_000


def _candidates(txt: pd.Series) -> pd.Series:
    """Rows that may hold an identifier (the vectorised pre-test of :func:`scrub_series`)."""
    pat = _patterns()["candidate"]
    uniq = txt.dropna().unique()
    if len(uniq) > _SMALL:
        return txt.str.contains(pat, na=False).astype(bool)
    hits = [v for v in uniq if pat.search(v)]
    return txt.isin(hits).fillna(False).astype(bool) if hits else pd.Series(False, index=txt.index)


def scrub_series(s: pd.Series) -> tuple[pd.Series, int, pd.Series]:
    """Scrub a text column: (cleaned column, removals, per-row kinds text or NA).

    Each distinct value is scrubbed once; values with no digit, ``@``, title, person word,
    first name or birth word skip the Python-level rules (one vectorised test).
    """
    txt = s.astype("string")
    kinds = pd.Series(pd.NA, index=s.index, dtype="string")
    if txt.empty:
        return txt, 0, kinds
    cand = _candidates(txt)
    if not cand.any():
        return txt, 0, kinds
    done: dict[str, tuple[str, list[str]]] = {}
    out = txt.copy()
    total = 0
    for idx, val in txt[cand].items():
        v = str(val)
        if v not in done:
            done[v] = scrub_detail(v)
        new, ks = done[v]
        if ks:
            out.at[idx] = new
            kinds.at[idx] = ", ".join(sorted(set(ks)))
            total += len(ks)
    return out, total, kinds
