"""The OpenStreetMap layers of the gazetteer (issue 13): parks and commons as polygons,
POIs as venues with chain aliases, places as areas, read from the OpenMapTiles GeoPackage
(session gazetteer) and from a real .osm.pbf (the Bloomsbury extract); and the geocoder on the
real names the issue lists. Expected points come from the sources, never hard-coded."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub.gazetteer import load, osm_layers
from istvhub.gazetteer.keys import chain_keys, load_chains
from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.raw import to_bng

KINGS = "RJZ01"  # King's College Hospital, Lambeth
STG = "RJ701"  # St George's, Tooting
GPKG = "streets/osm-london-2018/london_osm_2018.gpkg"


@pytest.fixture(scope="module")
def gaz(gazetteer_home):
    return load(gazetteer_home)


@pytest.fixture(scope="module")
def parks(gaz) -> gpd.GeoDataFrame:
    return gpd.read_parquet(gaz.path / "parks.parquet")


@pytest.fixture(scope="module")
def geo(gazetteer_home: Path):
    from istvhub.geocode import Geocoder

    return Geocoder.load(gazetteer_home)


def _park(parks: gpd.GeoDataFrame, name: str):
    hit = parks[parks["name"] == name]
    assert len(hit) == 1, f"{name}: {len(hit)} parks"
    return hit.iloc[0]


def test_parks_are_polygons_with_a_point_inside(gaz, parks, sources_dir):
    src = pyogrio.read_dataframe(sources_dir / GPKG, layer="parks", columns=["name"])
    src = src.to_crs(27700)
    for name in ("Clapham Common", "Tooting Bec Common", "Hyde Park", "Wandsworth Common"):
        p = _park(parks, name)
        e = gaz.entries.set_index("entry_id").loc[p["entry_id"]]
        assert e["entry_type"] == "venue" and e["source"] == "osm_parks"
        assert shapely.contains(p.geometry, shapely.Point(e["easting"], e["northing"]))
        # precision: the radius of a circle of the park's area
        assert abs(e["precision_m"] - np.sqrt(p.geometry.area / np.pi)) < 1.0
        # every piece of the park (Tooting Bec Common's two overlapping polygons are one)
        want = shapely.union_all(src.loc[src["name"] == name].geometry.values).area
        assert p["area_m2"] == pytest.approx(want, rel=0.01)
    assert _park(parks, "Clapham Common")["category"] == "common"
    assert _park(parks, "Hyde Park")["borough"] == "Westminster"
    assert parks["entry_id"].isin(gaz.entries["entry_id"]).all()
    by = gaz.entries[gaz.entries["source"] == "osm_parks"]["borough"].value_counts()
    assert by.get("Lambeth", 0) > 20 and by.get("Westminster", 0) > 20


def test_pois_carry_categories_and_skip_what_other_sources_hold(gaz, sources_dir):
    e = gaz.entries[gaz.entries["source"] == "osm_pois"]
    assert (e["entry_type"] == "venue").all()
    cats = set(e["category"])
    assert {"shop", "fast_food", "pub", "market", "shopping_centre"} <= cats
    assert not cats & set(osm_layers.POI_SKIP)
    ec = e[e["key"] == "elephant and castle shopping centre"]
    assert len(ec) == 1 and ec.iloc[0]["category"] == "shopping_centre"
    src = pyogrio.read_dataframe(sources_dir / GPKG, layer="pois", where="category = 'market'")
    src = src[src["name"] == "Brixton Village"].to_crs(27700)
    bv = e[e["key"] == "brixton village"].iloc[0]
    assert (
        np.hypot(bv["easting"] - src.geometry.x.iat[0], bv["northing"] - src.geometry.y.iat[0]) < 1
    )


def test_places_are_areas(gaz):
    a = gaz.entries[gaz.entries["source"] == "osm_places"]
    assert (a["entry_type"] == "area").all() and len(a) > 300
    assert a["category"].isin(list(osm_layers.PLACE_PRECISION_M)).all()
    assert a["borough"].nunique() >= 25


def test_chain_aliases_point_at_real_venues(gaz):
    k, e = gaz.keys, gaz.entries
    chains = load_chains()
    assert gaz.manifest["unresolved_aliases"] == []
    al = k.merge(e[["entry_id", "entry_type", "key"]], on="entry_id")
    for r in chains.itertuples(index=False):
        for alias in r.aliases.split("|"):
            got = al[al["key_x"] == normalise_name(alias)]
            mine = got[(got["entry_type"] == "venue") & got["key_y"].str.fullmatch(r.match)]
            assert len(mine) >= 1, alias
            as_alias = got[got["key_kind"] == "alias"]
            assert (as_alias["entry_type"] == "venue").all(), alias
    macc = al[(al["key_x"] == "maccys") & (al["key_kind"] == "alias")]
    assert len(macc) > 50 and set(macc["key_y"]) <= {"mcdonalds", "mcdonalds drive in"}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz '&.-", min_size=1, max_size=30))
def test_chain_keys_only_ever_name_venues_of_their_chain(name):
    ents = pd.DataFrame(
        {
            "entry_id": ["venue:a", "venue:b", "street:c"],
            "entry_type": ["venue", "venue", "street"],
            "key": [normalise_name(name), "mcdonalds", "mcdonalds"],
        }
    )
    out = chain_keys(ents)
    assert set(out["entry_id"]) <= {"venue:a", "venue:b"}
    assert "venue:b" in set(out.loc[out["key"] == "maccys", "entry_id"])
    chains = load_chains()
    for eid, key in zip(out["entry_id"], out["key"], strict=True):
        own = ents.set_index("entry_id").at[eid, "key"]
        ok = chains[[bool(pd.Series([own]).str.fullmatch(m).iat[0]) for m in chains["match"]]]
        assert key in {normalise_name(a) for al in ok["aliases"] for a in al.split("|")}


def test_pbf_extract_gives_parks_pois_and_places(sources_dir):
    """A real Geofabrik-style .osm.pbf (Bloomsbury): leisure=park polygons, shop/amenity
    points and place points, read through GDAL's OSM driver."""
    pbf = sources_dir / "streets/osm/bloomsbury.osm.pbf"
    rows, parks = osm_layers.read_all([pbf])
    assert {"Russell Square", "Gordon Square"} <= set(parks["name"])
    mp = pyogrio.read_dataframe(pbf, layer="multipolygons", where="name = 'Russell Square'")
    mp = mp[mp["leisure"] == "park"].to_crs(27700)
    rs = rows[rows["name"] == "Russell Square"]
    rs = rs[rs["source"] == "osm_parks"].iloc[0]
    assert shapely.contains(mp.geometry.iat[0], shapely.Point(rs["easting"], rs["northing"]))
    pois = rows[rows["source"] == "osm_pois"]
    assert len(pois) > 50 and {"cafe", "pub"} <= set(pois["category"])
    pts = pyogrio.read_dataframe(pbf, layer="points", columns=["name", "other_tags"])
    pubs = pts[pts["other_tags"].fillna("").str.contains('"amenity"=>"pub"', regex=False)]
    assert set(pubs["name"].dropna()) <= set(pois.loc[pois["category"] == "pub", "name"])


def test_osm_tags_parser_is_total():
    @settings(max_examples=80, deadline=None)
    @given(
        st.dictionaries(
            st.from_regex(r"[a-z:_]{1,12}", fullmatch=True),
            st.text(alphabet="abc xyz;-'", max_size=12),
            max_size=6,
        )
    )
    def roundtrip(d):
        s = ",".join(f'"{k}"=>"{v}"' for k, v in d.items())
        assert osm_layers._tags(s) == d

    roundtrip()
    assert osm_layers._tags(None) == {}


# --------------------------------------------------------------------------- geocoder


def _inside(parks, name: str, r: dict) -> bool:
    return bool(
        shapely.contains(_park(parks, name).geometry, shapely.Point(r["easting"], r["northing"]))
    )


@pytest.mark.parametrize(
    ("text", "park", "ed"),
    [
        ("tooting bec common", "Tooting Bec Common", STG),
        ("clapham common", "Clapham Common", KINGS),
        ("in clapham common", "Clapham Common", KINGS),
        ("on hyde park", "Hyde Park", None),
    ],
)
def test_park_names_land_inside_the_park(geo, parks, text, park, ed):
    r = geo.geocode(text, ed)
    assert r["geo_status"] == "located", r["reason"]
    assert r["matched_name"] == park and _inside(parks, park, r)
    assert r["precision_m"] >= 300  # the park, not a point in it


def test_clapham_common_station_still_means_the_station(geo, gaz):
    r = geo.geocode("clapham common station", KINGS)
    st_ = gaz.entries[
        (gaz.entries["entry_type"] == "station") & (gaz.entries["key"] == "clapham common")
    ]
    assert r["match_type"] == "station"
    assert (
        np.hypot(r["easting"] - st_.iloc[0]["easting"], r["northing"] - st_.iloc[0]["northing"])
        < 50
    )


def _source_point(sources_dir, name: str, category: str) -> tuple[float, float]:
    g = pyogrio.read_dataframe(sources_dir / GPKG, layer="pois", where=f"category = '{category}'")
    g = g[g["name"] == name]
    assert len(g) == 1
    e, n = to_bng([g.geometry.x.iat[0]], [g.geometry.y.iat[0]])
    return float(e[0]), float(n[0])


@pytest.mark.parametrize(
    ("text", "name", "category"),
    [
        ("brixton village", "Brixton Village", "market"),
        (
            "elephant and castle shopping centre",
            "Elephant and Castle Shopping Centre",
            "shopping_centre",
        ),
    ],
)
def test_named_places_resolve_within_300_m(geo, sources_dir, text, name, category):
    x, y = _source_point(sources_dir, name, category)
    r = geo.geocode(text, KINGS)
    assert r["geo_status"] == "located" and r["match_type"] == "venue", r["reason"]
    assert np.hypot(r["easting"] - x, r["northing"] - y) < 300


def _chain_on_street(gaz, chain_key: str, street: str) -> np.ndarray:
    """Points of the chain's branches that stand within 40 m of a block of ``street``."""
    e = gaz.entries
    v = e[(e["entry_type"] == "venue") & e["key"].str.fullmatch(chain_key)]
    b = gaz.blocks[gaz.blocks["names_key"].str.split("|").map(lambda ks: street in ks)]
    d = shapely.distance(
        shapely.points(v["easting"].to_numpy(), v["northing"].to_numpy())[:, None],
        np.asarray(b.geometry.values, dtype=object)[None, :],
    ).min(axis=1)
    return v[d < 40][["easting", "northing"]].to_numpy()


@pytest.mark.parametrize(
    ("text", "chain", "street"),
    [
        ("o/s maccys brixton rd", "mcdonalds", "brixton road"),
        ("tesco express walworth rd", "tesco( express| metro)?", "walworth road"),
        # a one-word chain name beside a street: the branch on it, not the one nearest the ED
        ("tesco on walworth rd", "tesco( express| metro)?", "walworth road"),
        ("kfc on walworth rd", "kfc", "walworth road"),
        ("lidl on old kent rd", "lidl", "old kent road"),
        # Clapham High Street is also a station: "on" it says where the shop stands
        ("sainsburys on clapham high st", "sainsburys( local)?", "clapham high street"),
    ],
)
def test_chain_on_a_street_is_that_branch(geo, gaz, text, chain, street):
    branches = _chain_on_street(gaz, chain, street)
    assert len(branches) >= 1
    r = geo.geocode(text, KINGS)
    assert r["geo_status"] == "located" and r["match_type"] == "venue", r["reason"]
    d = np.hypot(branches[:, 0] - r["easting"], branches[:, 1] - r["northing"]).min()
    assert d < 300


@pytest.mark.parametrize("text", ["assaulted outside mcdonalds", "in tesco", "kfc"])
def test_a_chain_named_alone_is_ambiguous_not_the_nearest_branch(geo, text):
    r = geo.geocode(text, KINGS)
    assert r["geo_status"] == "ambiguous" and r["match_type"] == "venue", r["reason"]
    assert r["easting"] is None


def test_english_words_that_name_chains_stay_narrative(geo):
    # "boots", "subway" are chains too, but never a shop on their own (chains.py)
    r = geo.geocode("kicked with boots on walworth rd", KINGS)
    assert r["match_type"] == "street" and r["matched_name"] == "Walworth Road"
    assert geo.geocode("in the subway", KINGS)["geo_status"] != "located"
