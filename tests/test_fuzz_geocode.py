"""Fuzzing the geocoder (issue 8.6) on the real gazetteer: any unicode text (or none) comes back
with exactly GEOCODE_COLUMNS and a known status, never an exception; a text classified home or
unknown never carries a point. Time per record is printed by benchmarks/geocode_worst_case.py,
not asserted here."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from istvhub.records import GEO_STATUSES, GEOCODE_COLUMNS

POINT = ("lat", "lon", "easting", "northing", "block_id", "lsoa_code")
HOME_PHRASES = (
    "home",
    "at home",
    "his flat",
    "her home address",
    "pt's flat",
    "friends house",
    "in his mums house",
    "own home",
    "at a friend's flat",
    "unknown",
    "not known",
    "n/k",
    "pt unable to say",
    "not stated",
    "refused",
)
PLACES = (
    "SE1 7EH",
    "Oxford Street",
    "o/s Brixton station",
    "Old Kent Road",
    "j/w Walworth Rd and East St",
    "the Ritzy",
)


@pytest.fixture(scope="module")
def geocoder(gazetteer_home):
    from istvhub.geocode import Geocoder

    return Geocoder.load(gazetteer_home)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _check(res: dict) -> None:
    assert set(res) == set(GEOCODE_COLUMNS)
    assert res["geo_status"] in GEO_STATUSES
    if res["geo_status"] in ("home", "unknown"):
        assert all(_blank(res[c]) for c in POINT), res["geo_status"]
    if res["geo_status"] == "located":
        assert -0.6 < res["lon"] < 0.4 and 51.2 < res["lat"] < 51.8


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    text=st.one_of(
        st.none(),
        st.text(max_size=120),
        st.text(alphabet=st.characters(codec="ascii"), max_size=60),
    ),
    dept=st.sampled_from([None, "RJ122", "RJZ01", "ZZZ99", "rj122 "]),
)
def test_any_text_never_raises(geocoder, text, dept):
    _check(geocoder.geocode(text, dept))


@SETTINGS
@given(
    phrase=st.sampled_from(HOME_PHRASES),
    place=st.sampled_from(("", *PLACES)),
    sep=st.sampled_from([" ", ", ", " - ", " nr ", " on ", " / "]),
    upper=st.booleans(),
    noise=st.text(alphabet=" .,;!?", max_size=3),
)
def test_home_and_unknown_texts_never_get_a_point(geocoder, phrase, place, sep, upper, noise):
    text = (
        f"{phrase}{sep}{place}{noise}"
        if place
        and phrase.split()[0] in ("home", "at", "his", "her", "pt's", "friends", "in", "own")
        else f"{phrase}{noise}"
    )
    if upper:
        text = text.upper()
    res = geocoder.geocode(text, "RJ122")
    _check(res)
    assert res["geo_status"] in ("home", "unknown"), (text, res["geo_status"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.one_of(st.none(), st.text(max_size=60), st.sampled_from(PLACES)), max_size=30))
def test_frames_keep_index_and_columns(geocoder, texts):
    idx = pd.Index([f"r{i}" for i in range(len(texts))][::-1])
    df = pd.DataFrame(
        {"location_text": pd.Series(texts, index=idx, dtype=object), "department": "RJ122"},
        index=idx,
    )
    out = geocoder.geocode_frame(df)
    assert list(out.columns) == list(GEOCODE_COLUMNS)
    assert out.index.equals(df.index)
    for r in out.to_dict("records"):
        _check(r)
