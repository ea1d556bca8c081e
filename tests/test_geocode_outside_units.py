"""A full postcode outside London in a sector London shares (``geocode/outside_units.py``):
*outside area*, while an unknown unit of the same sector still falls back to the sector.

The units are real Code-Point units of sectors split at the London boundary (BR6 7 between
Bromley and Sevenoaks, KT6 5 between Kingston and Elmbridge); the texts are invented.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def geo(gazetteer_home: Path):
    from istvhub.geocode import Geocoder

    return Geocoder.load(gazetteer_home)


def _outside_unit_of(geo, sector: str) -> str:
    from istvhub.geocode.outside_units import outside_units

    units = sorted(u for u in outside_units(geo) if u.startswith(sector.replace(" ", "")))
    assert units, f"no unit of {sector} outside London in the gazetteer build"
    return units[0]


@pytest.mark.parametrize("sector", ["br6 7", "kt6 5", "en5 4"])
def test_a_unit_outside_london_is_outside_area(geo, sector: str) -> None:
    unit = _outside_unit_of(geo, sector)
    assert unit not in geo.index.postcode  # not a London unit
    for text in (unit, f"{unit[:-3]} {unit[-3:]}".upper(), f"assaulted o/s {unit}"):
        r = geo.geocode(text)
        assert r["geo_status"] == "outside_area", (text, r["reason"])


def test_an_unknown_unit_still_falls_back_to_its_london_sector(geo) -> None:
    from istvhub.geocode.outside_units import outside_units

    known = set(geo.index.postcode) | outside_units(geo)
    unit = next(f"br67{a}{b}" for a in "wxyz" for b in "wxyz" if f"br67{a}{b}" not in known)
    r = geo.geocode(unit)
    assert r["geo_status"] == "located" and r["match_type"] == "postcode_sector", r["reason"]


def test_the_build_writes_the_outside_units(geo) -> None:
    from istvhub.geocode.outside_units import outside_units

    units = outside_units(geo)
    assert len(units) > 10_000  # the neighbours of London in the 22 Code-Point areas
    assert not units & set(geo.index.postcode)
