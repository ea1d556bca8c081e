"""The map page's data: the basemap drawn from the real gazetteer, the map's layer (same
disclosure and role rules as /layers/hotblocks, H3 cells labelled with their borough) and the
day x time grid and trend of the selection."""

from __future__ import annotations

import gzip
import json

import pytest
import shapely
from shapely.geometry import shape

OWN_BOROUGH, OTHER_BOROUGH = "Westminster", "Camden"  # as in tests/api/conftest.py


def _fc(resp) -> dict:
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_borough_basemap_has_streets_parks_water_outlines_and_labels(geo_hub):
    r = geo_hub.client.get("/basemap/westminster.geojson", headers=geo_hub.h("csp"))
    fc = _fc(r)
    kinds = {}
    for f in fc["features"]:
        kinds.setdefault(f["properties"]["kind"], []).append(f)
    assert fc["properties"]["scope"] == "Westminster" and fc["properties"]["has_network"]
    # the streets are the block network of Westminster, named as the gazetteer names them
    names = {f["properties"]["name"] for f in kinds["street"]}
    assert {"Oxford Street", "Whitehall", "Piccadilly"} <= names
    assert fc["properties"]["blocks"] > 3000
    assert {f["properties"]["rank"] for f in kinds["street"]} == {0, 1, 2}
    # the Thames: the gap between the borough boundaries (mid-river) and the LSOA banks
    (water,) = kinds["water"]
    river = shape(water["geometry"])
    assert river.contains(shapely.Point(-0.1218, 51.5025))  # mid-river by the London Eye
    assert not river.contains(shapely.Point(-0.1276, 51.5073))  # Trafalgar Square is dry
    # LSOA 2021 outlines of the borough, and labels (street names of main roads, places)
    assert all(f["properties"]["lsoa21_code"].startswith("E01") for f in kinds["lsoa"])
    assert len(kinds["lsoa"]) > 100
    label_names = {f["properties"]["name"] for f in kinds["label"]}
    assert "Oxford Street" in label_names
    # coordinates are trimmed to 5 decimals (about 1 m)
    x, y = shapely.get_coordinates(shape(kinds["street"][0]["geometry"]))[0].tolist()
    assert round(x, 5) == x and round(y, 5) == y


def test_borough_basemap_is_one_line_per_street_and_small(geo_hub):
    """The background streets are merged per street and simplified (the map tiles a few
    thousand lines quickly, not every block), yet keep every street name of the gazetteer's
    blocks and lie where the blocks are."""
    import geopandas as gpd

    from istvhub.api.basemap import gazetteer_version_dir

    r = geo_hub.client.get("/basemap/westminster.geojson", headers=geo_hub.h("csp"))
    fc = _fc(r)
    streets = [f for f in fc["features"] if f["properties"]["kind"] == "street"]
    vdir = gazetteer_version_dir(geo_hub.settings.home)
    blocks = gpd.read_parquet(vdir / "blocks.parquet").to_crs(27700)
    own = blocks[blocks["borough"] == "Westminster"]
    named = set(own["name"].dropna().astype(str)) - {"(unnamed)"}
    assert {f["properties"]["name"] for f in streets} - {None} == named
    assert len(streets) < len(own) / 2  # one feature per street, not per block
    assert len(r.content) < 900_000  # it was 1.35 MB with a feature per block
    # the merged Oxford Street still runs the length of its blocks (simplified by 2 m at most)
    ox = [shape(f["geometry"]) for f in streets if f["properties"]["name"] == "Oxford Street"]
    ox_blocks = own[own["name"] == "Oxford Street"].to_crs(4326).geometry.union_all()
    got = shapely.union_all(ox)
    assert got.hausdorff_distance(ox_blocks) < 0.0001  # about 7-11 m in degrees here
    assert "highway" not in streets[0]["properties"]  # only what the map draws


def test_basemap_gzip_and_cache(geo_hub):
    h = geo_hub.h("mopac")
    plain = geo_hub.client.get(
        "/basemap/london.geojson", headers={**h, "Accept-Encoding": "identity"}
    )
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    raw = geo_hub.client.get("/basemap/london.geojson", headers={**h, "Accept-Encoding": "gzip"})
    # httpx decodes the body; the cached gzip twin is what went over the wire
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.json() == plain.json()
    home = geo_hub.settings.home
    (gz,) = list((home / "cache" / "basemap").glob("*/london.geojson.gz"))
    assert json.loads(gzip.decompress(gz.read_bytes())) == plain.json()
    assert gz.stat().st_size < len(plain.content) / 4


def test_london_basemap_says_which_boroughs_have_no_network(geo_hub):
    fc = _fc(geo_hub.client.get("/basemap/london.geojson", headers=geo_hub.h("csp")))
    boroughs = [f for f in fc["features"] if f["properties"]["kind"] == "borough"]
    assert len(boroughs) == 33
    missing = set(fc["properties"]["boroughs_without_network"])
    # the shared sources have no street lines east of the Greenwich meridian
    assert "Havering" in missing and "Westminster" not in missing
    by_name = {f["properties"]["name"]: f["properties"] for f in boroughs}
    assert by_name["Havering"]["has_network"] is False and by_name["Havering"]["blocks"] == 0
    assert by_name["Westminster"]["blocks"] > 3000
    labels = {f["properties"]["name"] for f in fc["features"] if f["properties"]["kind"] == "label"}
    assert len(labels) == 33
    havering = _fc(geo_hub.client.get("/basemap/Havering.geojson", headers=geo_hub.h("csp")))
    assert havering["properties"]["has_network"] is False
    assert not [f for f in havering["features"] if f["properties"]["kind"] == "street"]


def test_basemap_needs_sign_in_and_a_real_area(geo_hub):
    assert geo_hub.client.get("/basemap/london.geojson").status_code == 401
    r = geo_hub.client.get("/basemap/atlantis.geojson", headers=geo_hub.h("csp"))
    assert r.status_code == 404 and "33 boroughs" in r.json()["detail"]


def test_map_units_are_the_layer_with_boroughs_on_hexes(seeded):
    hub = seeded.hub
    q = {"from": "2025-06", "to": "2025-06"}
    blocks = _fc(hub.client.get("/map/units.geojson", params=q, headers=hub.h("csp")))
    same = _fc(
        hub.client.get("/layers/hotblocks", params={**q, "format": "geojson"}, headers=hub.h("csp"))
    )
    assert [f["properties"]["block_id"] for f in blocks["features"]] == [
        f["properties"]["block_id"] for f in same["features"]
    ]
    # the CSP analyst sees Westminster only: the busy and middling seeded blocks, not the quiet one
    assert {f["properties"]["borough"] for f in blocks["features"]} == {"Westminster"}
    top = blocks["features"][0]["properties"]
    assert top["rank"] == 1 and top["name"] == seeded.blocks[0]["name"]
    assert top["rate_per_100m"] > 0
    hexes = _fc(
        hub.client.get("/map/units.geojson", params={**q, "layer": "hexes"}, headers=hub.h("mopac"))
    )
    assert hexes["properties"]["layer"] == "hexes"
    got = {f["properties"]["borough"] for f in hexes["features"]}
    assert got == {"Westminster", "Camden"}  # mopac: London-wide; every cell has its borough
    lsoa = _fc(
        hub.client.get("/map/units.geojson", params={**q, "layer": "lsoa"}, headers=hub.h("mopac"))
    )
    assert lsoa["properties"]["layer"] == "lsoas21"
    assert all(f["properties"]["borough"] for f in lsoa["features"])


def test_map_units_role_rules_are_the_layers_rules(seeded):
    hub = seeded.hub
    q = {"from": "2025-06", "to": "2025-06"}
    r = hub.client.get(
        "/map/units.geojson", params={**q, "borough": OTHER_BOROUGH}, headers=hub.h("csp")
    )
    assert r.status_code == 403
    r = hub.client.get(
        "/map/units.geojson", params={**q, "unsuppressed": "true"}, headers=hub.h("mopac")
    )
    assert r.status_code == 403
    assert hub.client.get("/map/units.geojson", params=q, headers=hub.h("ed")).status_code == 403
    assert hub.client.get("/map/profile", params=q, headers=hub.h("ed")).status_code == 403


def test_time_filter_on_a_short_period_is_refused_in_words(seeded):
    hub = seeded.hub
    r = hub.client.get(
        "/map/units.geojson",
        params={"from": "2025-06", "to": "2025-06", "hours": "22-4"},
        headers=hub.h("csp"),
    )
    assert r.status_code == 422
    msg = r.json()["detail"]
    assert "at least 3 months" in msg and "--" not in msg


def test_profile_grid_and_trend_are_disclosure_controlled(seeded, seed_more):
    hub = seeded.hub
    q = {"from": "2025-06", "to": "2025-08", "borough": OWN_BOROUGH}
    before = _fc(hub.client.get("/map/profile", params=q, headers=hub.h("csp")))
    assert before["trend"][2] == 0
    seed_more(hub, "2025-08")  # a new upload: the cached profile must not be served
    p = _fc(hub.client.get("/map/profile", params=q, headers=hub.h("csp")))
    assert p["periods"] == ["2025-06", "2025-07", "2025-08"]
    # Westminster's seeded blocks hold 20 + 12 + 3 = 35 records per seeded month, none in July
    assert p["trend"][1] == 0
    for v in (p["trend"][0], p["trend"][2]):
        assert v is not None and v % 5 == 0 and 25 <= v <= 45
    assert len(p["grid"]) == 7 and all(len(r) == 8 for r in p["grid"])
    cells = [v for row in p["grid"] for v in row]
    assert all(v is None or v == 0 or (v >= 10 and v % 5 == 0) for v in cells)
    # arrivals at 20:15-23:15: every published count sits in the 18-21 and 21-24 bands
    bands = p["bands"]
    assert bands[6] == "18-21" and bands[7] == "21-24"
    assert all(v in (0, None) for row in p["grid"] for v in row[:6])
    assert p["rule_label"] == "NHS Digital HES/ECDS: suppress 1-7, round to nearest 5"


def test_profile_with_a_time_filter_bins_the_trend(seeded, seed_more):
    hub = seeded.hub
    for m in ("2025-07", "2025-08", "2025-09", "2025-10", "2025-11"):
        seed_more(hub, m)
    q = {"from": "2025-06", "to": "2025-11", "hours": "18-24", "borough": OWN_BOROUGH}
    p = _fc(hub.client.get("/map/profile", params=q, headers=hub.h("csp")))
    assert p["periods"] == ["2025-06..2025-08", "2025-09..2025-11"]
    assert "3 months" in p["trend_note"]
    assert all(v is not None and v % 5 == 0 and v >= 90 for v in p["trend"])
    short = _fc(
        hub.client.get(
            "/map/profile", params={"from": "2025-06", "to": "2025-07"}, headers=hub.h("csp")
        )
    )
    assert short["grid"] is None and "at least 3 months" in short["grid_note"]


@pytest.mark.parametrize("who", ["csp", "mopac", "admin"])
def test_map_page_offers_every_filter_in_words(seeded, who):
    hub = seeded.hub
    r = hub.client.get("/map", headers=hub.h(who))
    assert r.status_code == 200
    html = r.text
    for words in (
        "Knife or sharp object",
        "Body part",
        "Pub, bar or club",
        "Night, 22:00 to 04:00",
        "Neighbourhoods (LSOAs)",
        "H3 hexagons",
        'name="days"',
    ):
        assert words in html
    assert ">body_part<" not in html and ">sharp<" not in html
    assert "/static/vendor/maplibre-gl/maplibre-gl-csp.js" in html
