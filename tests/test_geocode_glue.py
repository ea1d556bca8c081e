"""Lost spaces (``geocode/glue.py``) and two slips in a six-letter name (``typos.py``) on the
real gazetteer: a token typed for two words is split when both parts are words, never when it is
a word, an English word or a closer typo; a name two slips away is found unless one slip makes
an English word. Every text here is invented for this file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from istvhub.geocode.glue import split_token, unglue
from istvhub.geocode.normalise import normalise_text


@pytest.fixture(scope="module")
def geo(gazetteer_home: Path):
    from istvhub.geocode import Geocoder

    return Geocoder.load(gazetteer_home)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("walworthrd", "Walworth Road"),  # name + type abbreviation
        ("mare streete8", "Mare Street"),  # type word + postcode district
        ("at electric avenuesw9", "Electric Avenue"),
        ("lordshiplane se22", "Lordship Lane"),  # two name words
        ("stockwellpark rd", "Stockwell Park Road"),
        ("oncanal reach", "Canal Reach"),  # connector + name
    ],
)
def test_a_lost_space_is_found(geo, text: str, name: str) -> None:
    r = geo.geocode(text)
    assert r["geo_status"] == "located", (text, r["reason"])
    assert name in r["reason"], (text, r["reason"])


def test_a_glued_home_phrase_is_home(geo) -> None:
    assert geo.geocode("pt at ownhome")["geo_status"] == "home"


@pytest.mark.parametrize("tok", ["atheton", "cammden"])
def test_a_one_edit_typo_is_corrected_not_split(geo, tok: str) -> None:
    assert split_token(geo.index, tok) is None


@pytest.mark.parametrize("tok", ["nothing", "somewhere", "brixton", "camberwell", "streett"])
def test_words_and_typos_of_words_are_not_split(geo, tok: str) -> None:
    # an English word, a gazetteer word, or a token one correction reaches is no glued pair
    assert split_token(geo.index, tok) is None


def test_the_commonest_cut_and_the_fewest_edits_win(geo) -> None:
    ix = geo.index
    assert split_token(ix, "stse1") == ("st", "se1")  # a connector-like word, not "sts e1"
    assert split_token(ix, "brixttontown") == ("brixtton", "town")  # one edit, not "brixttont own"
    assert split_token(ix, "popxxz") is None  # no reading of either part


@pytest.mark.parametrize("text", ["nrhutchings st", "walworthrd", "o/s the dolphin , e8", ""])
def test_unglue_is_idempotent(geo, text: str) -> None:
    once = unglue(geo.index, normalise_text(text))
    assert unglue(geo.index, once) == once


def test_a_typo_nearer_a_london_word_is_not_another_town(geo) -> None:
    # "brixtton" is one edit from Brixton and two from Brighton
    r = geo.geocode("brixtton town centre")
    assert r["geo_status"] == "located", r["reason"]
    assert geo.geocode("brighton seafront")["geo_status"] == "outside_area"


@pytest.mark.parametrize(
    ("text", "name"),
    [("wardouor st", "Wardour Street"), ("on strutonground", "Strutton Ground")],
)
def test_two_slips_in_a_six_letter_name_are_corrected(geo, text: str, name: str) -> None:
    r = geo.geocode(text)
    assert r["geo_status"] == "located" and name in r["reason"], (text, r["reason"])


@pytest.mark.parametrize("text", ["droped", "pt stabbde", "robbde by two", "sellign drugs"])
def test_a_slip_of_an_english_word_is_not_a_place_two_slips_away(geo, text: str) -> None:
    # one edit from dropped / stabbed / robbed / selling: not The Drop, Stable or Ribble Close
    assert geo.geocode(text)["geo_status"] != "located"
    assert geo.geocode(text)["geo_status"] != "ambiguous"
