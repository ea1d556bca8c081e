"""OGC API - Features under /ogc: landing, conformance, collections, items with bbox and paging;
scoped and suppressed exactly as the downloads are."""

from __future__ import annotations

import pytest


def _get(hub, who, path, **params):
    r = hub.client.get(path, params=params, headers=hub.h(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_landing_conformance_collections(seeded):
    hub = seeded.hub
    land = _get(hub, "csp", "/ogc")
    rels = {link["rel"] for link in land["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conf = _get(hub, "csp", "/ogc/conformance")["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf
    cols = _get(hub, "csp", "/ogc/collections")["collections"]
    assert {c["id"] for c in cols} == {
        "hotblocks-blocks",
        "hotblocks-hexes",
        "hotblocks-lsoas",
        "hotblocks-lsoas21",
        "hotblocks-msoas21",
    }
    one = _get(hub, "csp", "/ogc/collections/hotblocks-blocks")
    assert any(link["rel"] == "items" for link in one["links"])
    assert hub.client.get("/ogc/collections/records", headers=hub.h("csp")).status_code == 404


def test_items_scoped_and_suppressed(seeded):
    hub = seeded.hub
    r = hub.client.get(
        "/ogc/collections/hotblocks-blocks/items", params={"limit": 1000}, headers=hub.h("csp")
    )
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert fc["numberReturned"] == len(fc["features"]) <= fc["numberMatched"]
    props = {f["id"]: f["properties"] for f in fc["features"]}
    busy, middling, quiet, camden = seeded.blocks
    assert props[busy["block_id"]]["count"] == 20
    assert quiet["block_id"] not in props  # 1-7: not listed, as if empty
    assert camden["block_id"] not in props  # CSP: own borough only
    for p in props.values():
        assert p["count"] >= 8 and not p["suppressed"]
    # MOPAC: London-wide, still suppressed
    mop = _get(hub, "mopac", "/ogc/collections/hotblocks-blocks/items", limit=1000)
    mprops = {f["id"]: f["properties"] for f in mop["features"]}
    assert mprops[camden["block_id"]]["count"] == 15
    assert quiet["block_id"] not in mprops
    # asking for the quiet block by id answers exactly as for a block with no records
    for bid in (quiet["block_id"], "blk:no-such-block"):
        r = hub.client.get(f"/ogc/collections/hotblocks-blocks/items/{bid}", headers=hub.h("mopac"))
        assert r.status_code == 404
    one = _get(hub, "csp", f"/ogc/collections/hotblocks-blocks/items/{busy['block_id']}")
    assert one["id"] == busy["block_id"] and one["properties"]["count"] == 20
    assert (
        hub.client.get(
            f"/ogc/collections/hotblocks-blocks/items/{camden['block_id']}", headers=hub.h("csp")
        ).status_code
        == 404
    )


def test_paging_links_walk_every_feature_once(seeded):
    hub = seeded.hub
    first = _get(hub, "mopac", "/ogc/collections/hotblocks-blocks/items", limit=1)
    total = first["numberMatched"]
    assert total >= 3
    seen, page, hops = [], first, 0
    while True:
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        hops += 1
        page = hub.client.get(nxt[0], headers=hub.h("mopac")).json()
        assert any(link["rel"] == "prev" for link in page["links"])
    assert len(seen) == total == len(set(seen)) and hops == total - 1
    # default limit 100, maximum 1000
    big = _get(hub, "mopac", "/ogc/collections/hotblocks-hexes/items", limit=5000)
    assert big["numberReturned"] <= 1000


def test_bbox_filters_features(seeded):
    hub = seeded.hub
    busy, _, _, camden = seeded.blocks
    allf = _get(hub, "mopac", "/ogc/collections/hotblocks-blocks/items", limit=1000)
    feat = next(f for f in allf["features"] if f["id"] == busy["block_id"])
    xs = [c[0] for c in feat["geometry"]["coordinates"]]
    ys = [c[1] for c in feat["geometry"]["coordinates"]]
    box = f"{min(xs) - 1e-5},{min(ys) - 1e-5},{max(xs) + 1e-5},{max(ys) + 1e-5}"
    near = _get(hub, "mopac", "/ogc/collections/hotblocks-blocks/items", bbox=box, limit=1000)
    ids = {f["id"] for f in near["features"]}
    assert busy["block_id"] in ids and camden["block_id"] not in ids
    far = _get(
        hub, "mopac", "/ogc/collections/hotblocks-blocks/items", bbox="0.30,51.60,0.33,51.62"
    )
    assert far["numberMatched"] == 0
    bad = hub.client.get(
        "/ogc/collections/hotblocks-blocks/items", params={"bbox": "1,2,3"}, headers=hub.h("mopac")
    )
    assert bad.status_code == 400


@pytest.mark.parametrize("who", ["ed"])
def test_ogc_refuses_ed_and_anonymous(seeded, who):
    hub = seeded.hub
    for path in ("/ogc", "/ogc/collections", "/ogc/collections/hotblocks-blocks/items"):
        assert hub.client.get(path, headers=hub.h(who)).status_code == 403
        assert hub.client.get(path).status_code == 401


@pytest.mark.parametrize(
    "cid, code", [("hotblocks-lsoas21", "lsoa21_code"), ("hotblocks-msoas21", "msoa21_code")]
)
def test_census2021_collections_real_codes_no_small_counts(seeded, sources_dir, cid, code):
    """LSOA/MSOA 2021 items: every code is in the ONS 2021 boundary file, no count 1-7."""
    import pyogrio

    f = sources_dir / "boundaries/census2021/london_lsoa21_bgc_27700.gpkg"
    ons = pyogrio.read_dataframe(f, read_geometry=False)
    valid = set(ons["LSOA21CD" if code == "lsoa21_code" else "MSOA21CD"])
    fc = _get(seeded.hub, "admin", f"/ogc/collections/{cid}/items", limit=1000)
    assert fc["features"], "the seeded blocks lie in 2021 areas"
    for feat in fc["features"]:
        p = feat["properties"]
        assert p[code] in valid
        assert p["count"] is None or p["count"] >= 8


def test_ogc_responses_tell_clients_not_to_store_them(seeded):
    """QGIS caches by URL alone; without ``no-store`` a connection with another (or a wrong)
    token was served the previous user's cached pages (found by tests/api/test_qgis.py)."""
    hub = seeded.hub
    base = "/ogc/collections/hotblocks-blocks"
    fid = seeded.blocks[0]["block_id"]
    for path in (
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        base,
        base + "/items",
        f"{base}/items/{fid}",
    ):
        r = hub.client.get(path, headers=hub.h("csp"))
        assert r.status_code == 200, path
        assert "no-store" in r.headers["cache-control"], path
