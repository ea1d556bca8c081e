"""A kind of place with no name is *unknown* (issue 12, police.uk's generic labels): the texts
here are invented for this file; the located ones use real gazetteer names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from istvhub.geocode.kinds import kind_words


@pytest.fixture(scope="module")
def geo(gazetteer_home: Path):
    from istvhub.geocode import Geocoder

    return Geocoder.load(gazetteer_home)


@pytest.mark.parametrize(
    "text",
    [
        "outside the petrol station",
        "punched in the supermarket car park",
        "Nightclub SE15",  # a district does not make a kind a place
        "nr police station - male with bottle",
        "opp shopping centre, late evening",
        "o/s the pub",
        "in the open space behind the cinema",
    ],
)
def test_a_kind_without_a_name_is_unknown(geo, text: str) -> None:
    r = geo.geocode(text)
    assert r["geo_status"] == "unknown", (text, r["reason"])
    assert r["lat"] is None


@pytest.mark.parametrize(
    "text",
    [
        "o/s brixton station",  # a station named exactly
        "outside tesco, rye lane",  # a brand and a street
        "clapham common",  # an area whose name holds a kind word
        "park lane w1",  # a street written with its type word
    ],
)
def test_a_name_with_kind_words_stays_located(geo, text: str) -> None:
    r = geo.geocode(text)
    assert r["geo_status"] == "located", (text, r["reason"])


def test_kind_words_come_from_the_gazetteer_categories(geo) -> None:
    kinds = kind_words(geo.index)
    assert {"pub", "nightclub", "petrol", "police", "restaurant"} <= kinds
    assert not {"road", "street", "lane", "home"} & kinds  # type words of names, and home
    assert "brixton" not in kinds


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_kind_words_alone_are_never_located(geo, data) -> None:
    ix = geo.index
    named = {
        k
        for k in kind_words(ix)
        if k in ix.by_key and any(ix.etype[i] != "venue" for i in ix.by_key[k])
    }
    pool = sorted(kind_words(ix) - named)
    words = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    lead = data.draw(st.sampled_from(["", "o/s the ", "outside a ", "nr the "]))
    text = lead + " ".join(words)
    assert geo.geocode(text)["geo_status"] != "located", text
