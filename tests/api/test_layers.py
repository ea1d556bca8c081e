"""/layers/hotblocks: each disclosure and scope rule, attacked, on the real gazetteer."""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest

RECORD_FIELDS = {
    "location_text",
    "weapon_text",
    "record_id",
    "arrival_at",
    "incident_time",
    "incident_date",
    "age_band",
    "sex",
    "matched_name",
    "reason",
    "source_row",
}


def _features(r):
    assert r.status_code == 200, r.text
    return json.loads(r.content)["features"]


def _by_block(feats):
    return {f["properties"]["block_id"]: f["properties"] for f in feats}


def test_csp_gets_own_borough_suppressed_and_nothing_record_level(seeded):
    hub = seeded.hub
    r = hub.client.get(
        "/layers/hotblocks",
        params={"format": "geojson", "from": "2025-06", "to": "2025-06"},
        headers=hub.h("csp"),
    )
    feats = _features(r)
    props = _by_block(feats)
    assert {p["borough"] for p in props.values()} == {"Westminster"}
    busy, middling, quiet, camden = seeded.blocks
    assert props[busy["block_id"]]["count"] == 20
    # a block with 1-7 is not listed at all: it looks exactly like an empty block
    assert quiet["block_id"] not in props
    # 12 is published, perturbed by its cell key (+-2) and rounded to 5
    assert props[middling["block_id"]]["count"] in (10, 15)
    assert camden["block_id"] not in props
    for p in props.values():
        assert p["count"] >= 8 and not p["suppressed"]
        assert p["count"] is None or p["count"] % 5 == 0
        assert not (RECORD_FIELDS & set(p))


@pytest.mark.parametrize(
    "params",
    [
        {"borough": "Camden"},
        {"borough": ["Westminster", "Camden"]},
        {"borough": "camden "},
    ],
)
def test_csp_cannot_ask_for_another_borough(seeded, params):
    hub = seeded.hub
    r = hub.client.get(
        "/layers/hotblocks", params={"format": "geojson", **params}, headers=hub.h("csp")
    )
    assert r.status_code == 403


@pytest.mark.parametrize("who", ["csp", "mopac"])
def test_only_admin_may_ask_unsuppressed(seeded, who):
    hub = seeded.hub
    before = len(hub.store.audit_log())
    r = hub.client.get(
        "/layers/hotblocks",
        params={"format": "geojson", "unsuppressed": "true"},
        headers=hub.h(who),
    )
    assert r.status_code == 403
    assert len(hub.store.audit_log()) == before


def test_ed_analyst_gets_no_layers(seeded):
    hub = seeded.hub
    assert hub.client.get("/layers/hotblocks", headers=hub.h("ed")).status_code == 403
    assert hub.client.get("/layers/hotblocks").status_code == 401


def test_mopac_sees_london_wide_suppressed(seeded):
    hub = seeded.hub
    props = _by_block(
        _features(
            hub.client.get(
                "/layers/hotblocks",
                params={"format": "geojson", "from": "2025-06", "to": "2025-06"},
                headers=hub.h("mopac"),
            )
        )
    )
    busy, middling, quiet, camden = seeded.blocks
    assert props[camden["block_id"]]["count"] == 15
    assert quiet["block_id"] not in props
    assert props[busy["block_id"]]["count"] == 20


def test_admin_unsuppressed_is_audited_and_raw(seeded):
    hub = seeded.hub
    r = hub.client.get(
        "/layers/hotblocks",
        params={"format": "geojson", "unsuppressed": "true", "from": "2025-06", "to": "2025-06"},
        headers=hub.h("admin"),
    )
    props = _by_block(_features(r))
    assert "UNSUPPRESSED" in r.headers["content-disposition"]
    for blk in seeded.blocks:
        assert props[blk["block_id"]]["count"] == pytest.approx(blk["n"])
    log = hub.store.audit_log()
    rows = log[log["action"] == "layers.unsuppressed"]
    assert len(rows) == 1 and rows.iloc[0]["actor"] == "admin-1"
    assert json.loads(rows.iloc[0]["detail"])["period_from"] == "2025-06"
    # suppressed requests by admin are not logged as unsuppressed
    hub.client.get("/layers/hotblocks", params={"format": "geojson"}, headers=hub.h("admin"))
    log = hub.store.audit_log()
    assert (log["action"] == "layers.unsuppressed").sum() == 1


def test_geopackage_download_has_all_layers(seeded, tmp_path):
    hub = seeded.hub
    r = hub.client.get(
        "/layers/hotblocks", params={"from": "2025-06", "to": "2025-06"}, headers=hub.h("csp")
    )
    assert r.status_code == 200
    assert r.headers["content-disposition"].endswith('.gpkg"')
    p = tmp_path / "dl.gpkg"
    p.write_bytes(r.content)
    names = {n for n, _ in pyogrio.list_layers(p)}
    assert {"blocks", "hexes", "lsoas", "summary"} <= names
    blocks = pyogrio.read_dataframe(p, layer="blocks")
    assert set(blocks["borough"]) == {"Westminster"}
    assert not (RECORD_FIELDS & set(blocks.columns))


def test_csv_download_and_weapon_filter(seeded):
    hub = seeded.hub
    r = hub.client.get(
        "/layers/hotblocks",
        params={"format": "csv", "from": "2025-06", "to": "2025-06", "weapon": "sharp"},
        headers=hub.h("mopac"),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {r["block_id"]: r for r in csv.DictReader(io.StringIO(r.text))}
    busy, _, _, camden = seeded.blocks
    assert rows[busy["block_id"]]["count"] == "10"  # 10 of the 20 are "sharp"
    assert "wkt" in next(iter(rows.values()))


def test_repeat_download_is_served_from_cache_and_new_upload_invalidates(seeded, seed_more):
    hub = seeded.hub
    params = {"format": "geojson", "from": "2025-06", "to": "2025-07"}
    a = hub.client.get("/layers/hotblocks", params=params, headers=hub.h("mopac"))
    b = hub.client.get("/layers/hotblocks", params=params, headers=hub.h("mopac"))
    assert a.content == b.content
    cache = hub.settings.home / "cache" / "layers"
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 1
    seed_more(hub, "2025-07")
    c = hub.client.get("/layers/hotblocks", params=params, headers=hub.h("mopac"))
    busy = seeded.blocks[0]["block_id"]
    assert _by_block(_features(c))[busy]["count"] == 40


def test_csp_hexes_and_lsoas_hold_only_their_boroughs_records(seeded):
    import geopandas as gpd
    import h3

    hub = seeded.hub

    def hex_of(blk):
        mid = blk["geom"].interpolate(0.5, normalized=True)
        ll = gpd.GeoSeries([mid], crs=27700).to_crs(4326).iloc[0]
        return h3.latlng_to_cell(ll.y, ll.x, 9)

    camden_hex = hex_of(seeded.blocks[3])
    assert camden_hex not in {hex_of(b) for b in seeded.blocks[:3]}
    params = {"format": "geojson", "layer": "hexes", "from": "2025-06", "to": "2025-06"}
    csp = {
        f["properties"]["hex_id"]: f["properties"]
        for f in _features(hub.client.get("/layers/hotblocks", params=params, headers=hub.h("csp")))
    }
    mop = {
        f["properties"]["hex_id"]: f["properties"]
        for f in _features(
            hub.client.get("/layers/hotblocks", params=params, headers=hub.h("mopac"))
        )
    }
    assert mop[camden_hex]["count"] == 15
    assert camden_hex not in csp or not csp[camden_hex]["count"]
    assert sum(p["count"] or 0 for p in csp.values()) <= 35
