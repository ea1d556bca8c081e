"""Pure text steps of the geocoder: normalise, PII scrub, classify, postcode extraction.

No gazetteer needed: these run in milliseconds and pin the behaviour the matcher builds on.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub.geocode.classify import classify_tokens, correct_phrase_tokens
from istvhub.geocode.normalise import normalise_text
from istvhub.geocode.pii import scrub_location as scrub_text
from istvhub.geocode.postcodes import find_postcodes


def cls(text: str) -> str:
    return classify_tokens(correct_phrase_tokens(normalise_text(text).split()))


# ---------------------------------------------------------------- normalise
@pytest.mark.parametrize(
    "raw,norm",
    [
        ("o/s maccys brixton rd", "outside mcdonalds brixton road"),
        ("jct acre ln / brixton hill", "junction acre lane / brixton hill"),
        ("nr clapham jct stn", "near clapham junction station"),
        ("Kings Rd j/w Sloane St", "kings road junction with sloane street"),
        ("St. John's Wood Rd", "saint johns wood road"),
        ("high st and church rd", "high street and church road"),
        ("liverpool st stn", "liverpool street station"),
        ("SW21AA", "sw2 1aa"),
        ("Outside Tesco - Brixton Rd, SW2", "outside tesco , brixton road , sw2"),
        (
            "corner of Charlotte St & Windmill Street",
            "corner of charlotte street and windmill street",
        ),
        ("U/K", "unknown"),
        ("N/K", "not known"),
        ("- -", ""),
        ("?", ""),
        ("Café Nero", "cafe nero"),
        ("o/side tesco", "outside tesco"),
        ("commercial rd/ cannon st rd", "commercial road / cannon street road"),
    ],
)
def test_normalise_examples(raw: str, norm: str) -> None:
    assert normalise_text(raw) == norm


@pytest.mark.parametrize("value", [None, float("nan"), 12, "", "   "])
def test_normalise_odd_values(value: object) -> None:
    assert normalise_text(value) == ("12" if value == 12 else "")


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_normalise_never_raises_and_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert isinstance(once, str)
    assert normalise_text(once) == once
    assert once == once.strip() and "  " not in once


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "o/s",
                "jct",
                "st",
                "rd",
                "/",
                ",",
                "&",
                "nr",
                "stn",
                "pt's",
                "u/k",
                "Brixton",
                "SW2",
                "1AA",
                "-",
                "j/w",
                "the",
                "Dolphin",
                "E8",
                "ln",
                "St.",
                "'",
            ]
        ),
        max_size=10,
    )
)
def test_normalise_idempotent_on_ed_shorthand(words: list[str]) -> None:
    once = normalise_text(" ".join(words))
    assert normalise_text(once) == once


# ---------------------------------------------------------------- PII scrub
@pytest.mark.parametrize(
    "raw,gone",
    [
        ("mr smith hit him outside 12 acacia ave", ["smith", "12"]),
        ("call 07700 900123 re brixton rd", ["07700", "900123"]),
        ("dob 01/02/1990 brixton", ["1990", "01/02"]),
        ("flat 3 windrush house", ["3"]),
        ("email jo.bloggs@example.com", ["bloggs", "example"]),
    ],
)
def test_scrub_removes_identifiers(raw: str, gone: list[str]) -> None:
    out, n = scrub_text(raw)
    assert n >= 1
    for g in gone:
        assert g not in out


def test_scrub_keeps_places_and_postcodes() -> None:
    assert scrub_text("SW2 1AA")[0] == "SW2 1AA"
    assert scrub_text("sw2 1 brixton rd")[0] == "sw2 1 brixton rd"
    assert "flat" in scrub_text("flat 3 windrush house")[0]  # 'flat' still says home


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_scrub_never_raises(text: str) -> None:
    out, n = scrub_text(text)
    assert isinstance(out, str) and n >= 0


# ---------------------------------------------------------------- classify
@pytest.mark.parametrize(
    "text",
    [
        "home",
        "pt's home",
        "Patient's home",
        "pts home",
        "home address",
        "home (DV)",
        "friends house",
        "pt's flat",
        "his mum's address",
        "at his mums",
        "residence",
        "house party",
        "DV",
        "home sw2 1aa",
        "at home, SW9 6NQ",
        "girlfriends flat",
        "care home",
        "hostel room",
    ],
)
def test_home(text: str) -> None:
    assert cls(text) == "home"


@pytest.mark.parametrize(
    "text",
    [
        "nfa",
        "NFA",
        "u/k",
        "n/k",
        "na",
        "N/A",
        "- -",
        "refused",
        "intoxicated",
        "not stated",
        "?",
        "",
        "unknown",
        "pt unable to say",
        "pt wont say",
        "declined",
        "cant remember",
        "unkown",
        "in the street",
        "at work",
        "in custody",
        "police custody",
    ],
)
def test_unknown(text: str) -> None:
    assert cls(text) == "unknown"


@pytest.mark.parametrize(
    "text",
    [
        "on holiday in spain",
        "birmingham",
        "manchester",
        "in birmingham",
        "ibiza",
        "readong festival",
        "glastonbruy festival",
        "essx",
        "luton town centre",
        "on hooliday abroad",
    ],
)
def test_outside_area(text: str) -> None:
    assert cls(text) == "outside_area"


@pytest.mark.parametrize(
    "text",
    [
        "o/s maccys brixton rd",
        "the white house pub",
        "jct acre ln / brixton hill",
        "unknown street in brixton",
        "hmp wandsworth",
        "the dolphin pub e8",
        "SW2 1AA",
    ],
)
def test_locatable(text: str) -> None:
    assert cls(text) == "locatable"


def test_city_inside_a_london_name_is_not_outside() -> None:
    toks = normalise_text("manchester road").split()
    assert classify_tokens(toks) == "outside_area"  # without gazetteer evidence...
    assert classify_tokens(toks, covered={0, 1}) == "locatable"  # ...a London street name wins


# ---------------------------------------------------------------- postcodes
@pytest.mark.parametrize(
    "text,kind,key",
    [
        ("SW2 1AA", "postcode", "sw21aa"),
        ("sw21aa", "postcode", "sw21aa"),
        ("nr SW9 6NQ", "postcode", "sw96nq"),
        ("outside nw1w 8hx", "postcode", "nw1w8hx"),
        ("brixton rd sw9 7", "postcode_sector", "sw9 7"),
        ("the dolphin pub e8", "postcode_district", "e8"),
        ("EC1V", "postcode_district", "ec1v"),
    ],
)
def test_find_postcodes(text: str, kind: str, key: str) -> None:
    hits = find_postcodes(normalise_text(text).split())
    assert (hits[0].kind, hits[0].key) == (kind, key)


def test_sector_and_district_never_collide() -> None:
    # sector "SE1 7" and district "SE17" are different places
    a = find_postcodes(normalise_text("se1 7").split())[0]
    b = find_postcodes(normalise_text("se17").split())[0]
    assert a.key != b.key and a.kind != b.kind


@pytest.mark.parametrize(
    "text", ["walking home along old kent rd", "on his way home from work", "going home on the bus"]
)
def test_journey_home_is_not_home(text: str) -> None:
    assert cls(text) != "home"


def test_postcode_with_letter_for_digit() -> None:
    hit = find_postcodes(normalise_text("SE1 OAA").split())[0]
    assert (hit.kind, hit.key) == ("postcode", "se10aa")
