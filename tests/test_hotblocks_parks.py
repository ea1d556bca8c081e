"""Parks in the hot-block assignment (issue 13): a record the geocoder placed in a park has
the polygon as its precision, and lands on the block of the park's edge nearest its point;
the boroughs the network covers only in part are named in the hot-block summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from istvhub.gazetteer import load
from istvhub.hotblocks.assign import BlockIndex, assign
from istvhub.hotblocks.parks import PARK_EDGE_M
from istvhub.hotblocks.snapshare import network_rows

KINGS = "RJZ01"
STG = "RJ701"


@pytest.fixture(scope="module")
def gaz(gazetteer_home):
    return load(gazetteer_home)


@pytest.fixture(scope="module")
def index(gaz):
    return BlockIndex(gaz.blocks)  # the gazetteer's blocks carry its parks


@pytest.fixture(scope="module")
def geo(gazetteer_home):
    from istvhub.geocode import Geocoder

    return Geocoder.load(gazetteer_home)


def _record(r: dict) -> dict:
    keep = ("geo_status", "match_type", "matched_name", "easting", "northing", "precision_m")
    return {k: r[k] for k in keep} | {"borough": r.get("borough")}


@pytest.mark.parametrize(
    ("text", "park", "ed"),
    [
        ("clapham common", "Clapham Common", KINGS),
        ("tooting bec common", "Tooting Bec Common", STG),
        ("in hyde park", "Hyde Park", KINGS),
    ],
)
def test_a_park_lands_on_its_edge(geo, gaz, index, text, park, ed):
    r = geo.geocode(text, ed)
    assert r["matched_name"] == park and r["precision_m"] > 150  # too coarse for a point snap
    recs = pd.DataFrame([_record(r)])
    a = assign(recs, index)
    assert a.records["snap_status"].iat[0] == "snapped"
    (bid,) = a.blocks["block_id"].tolist()
    poly = gaz.parks.loc[gaz.parks["name"] == park].geometry.iat[0]
    blk = gaz.blocks.loc[gaz.blocks["block_id"] == bid].geometry.iat[0]
    assert shapely.distance(poly, blk) <= PARK_EDGE_M
    # the nearest of the edge's blocks to the record's point
    edge = gaz.blocks[shapely.dwithin(gaz.blocks.geometry.values, poly, PARK_EDGE_M)]
    pt = shapely.Point(r["easting"], r["northing"])
    d = shapely.distance(pt, edge.geometry.values)
    assert shapely.distance(pt, blk) == pytest.approx(d.min())


def test_only_the_park_named_pulls_a_record_to_the_edge(gaz, index):
    """A point inside Clapham Common under another venue's name, or a street's, keeps the
    ordinary rules: the park polygon is not a net for everything in it."""
    poly = gaz.parks.loc[gaz.parks["name"] == "Clapham Common"].geometry.iat[0]
    inner = poly.buffer(-150)
    pt = shapely.point_on_surface(inner)
    base = {"geo_status": "located", "easting": pt.x, "northing": pt.y, "precision_m": 400.0}
    recs = pd.DataFrame(
        [
            base | {"match_type": "venue", "matched_name": "Clapham Common"},
            base | {"match_type": "venue", "matched_name": "The Windmill"},
            base | {"match_type": "postcode", "matched_name": "SW4 9DE"},
        ]
    )
    st = assign(recs, index).records["snap_status"].astype(str).tolist()
    assert st[0] == "snapped"
    assert st[1] in ("imprecise", "outside_network") and st[2] in ("imprecise", "outside_network")


def test_network_rows_name_boroughs_covered_in_part():
    recs = pd.DataFrame(
        {
            "geo_status": ["located"] * 40,
            "borough": ["Bromley"] * 20 + ["Lambeth"] * 20,
        }
    )
    snap = pd.Series(["outside_network"] * 12 + ["snapped"] * 28)
    blocks = pd.DataFrame({"borough": ["Bromley", "Lambeth"]})
    rows = dict(((s, k), v) for s, k, v in network_rows(recs, blocks, snap))
    assert rows[("network", "boroughs_with_street_network_in_part_only")] == "Bromley"
    assert "osm.pbf" in rows[("network", "to_fill_them_supply")]
    assert ("network", "boroughs_without_street_network") not in rows
    # no network at all: named as such
    rows = dict(((s, k), v) for s, k, v in network_rows(recs, blocks.iloc[1:], snap))
    assert rows[("network", "boroughs_without_street_network")] == "Bromley"
    assert np.all([isinstance(v, str) for v in rows.values()])
