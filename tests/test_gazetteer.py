"""Gazetteer on the real open data: the session gazetteer (conftest ``gazetteer_home``) and
small builds from real rows (a few Code-Point areas, a Price Paid file in its raw layout)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import istvhub.gazetteer.build as build_mod
from istvhub._errors import GazetteerNotBuilt, SourcesNotFound
from istvhub.core.config import GAZETTEER_TABLES_DIR
from istvhub.gazetteer import fill, load
from istvhub.gazetteer import network as net
from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.raw import to_bng
from istvhub.gazetteer.read_areas import PRICE_PAID_COLUMNS


@pytest.fixture(scope="module")
def gaz(gazetteer_home):
    return load(gazetteer_home)


# --------------------------------------------------------------------------- real rows


def test_sw2_1aa_is_in_lambeth(gaz):
    e = gaz.entries
    row = e[(e["entry_type"] == "postcode") & (e["name"] == "SW2 1AA")]
    assert len(row) == 1
    r = row.iloc[0]
    assert r["borough"] == "Lambeth"
    assert r["district"] == "SW2"
    assert r["key"] == "sw2 1aa"
    assert 51.4 < r["lat"] < 51.5 and -0.2 < r["lon"] < -0.05
    # the spaceless form is a search key too
    assert "sw21aa" in set(gaz.keys.loc[gaz.keys["entry_id"] == r["entry_id"], "key"])


def test_coldharbour_lane_in_lambeth_has_points_along_it(gaz):
    e = gaz.entries
    st = e[
        (e["entry_type"] == "street")
        & (e["key"] == "coldharbour lane")
        & (e["borough"] == "Lambeth")
    ]
    assert len(st) == 1
    pts = gaz.street_points[gaz.street_points["entry_id"] == st.iloc[0]["entry_id"]]
    assert len(pts) >= 10
    assert pts["postcode"].str.match(r"^(SW9|SE5|SE24|SW2) ").all()
    extent = np.hypot(
        pts["easting"].max() - pts["easting"].min(), pts["northing"].max() - pts["northing"].min()
    )
    assert extent > 1000
    # the entry's point is one of its postcode points and its precision covers the spread
    assert (
        (pts["easting"] == st.iloc[0]["easting"]) & (pts["northing"] == st.iloc[0]["northing"])
    ).any()
    assert st.iloc[0]["precision_m"] >= extent / 2


def test_all_33_boroughs_have_postcodes_and_streets(gaz):
    e = gaz.entries
    for etype in ("postcode", "street", "junction", "bus_stop", "school"):
        assert e.loc[e["entry_type"] == etype, "borough"].nunique() == 33, etype
    assert e["borough"].notna().all()
    assert set(e["borough"]) == set(gaz.boroughs["name"])


def _westminster_meeting_pairs(sources_dir: Path, n: int = 40):
    """Nodes of the Westminster edges file where two differently named streets meet."""
    g = gpd.read_file(sources_dir / "streets/osm/westminster_drive_edges.geojson")
    names: dict[str, set[str]] = {}
    where: dict[str, tuple[float, float]] = {}
    for u, v, nm, geom in zip(g["u"], g["v"], g["name"], g.geometry, strict=True):
        if nm is None:
            continue
        keys = {normalise_name(x) for x in nm}
        coords = list(geom.coords)
        for node, xy in ((u, coords[0]), (v, coords[-1])):
            names.setdefault(node, set()).update(keys)
            where[node] = xy
    out = []
    for node, ks in sorted(names.items()):
        if len(ks) == 2:
            a, b = sorted(ks)
            out.append((a, b, where[node]))
    return out[:: max(1, len(out) // n)][:n]


def test_junction_of_streets_meeting_in_westminster_network(gaz, sources_dir):
    j = gaz.entries[gaz.entries["entry_type"] == "junction"]
    pairs = _westminster_meeting_pairs(sources_dir)
    assert len(pairs) >= 20
    found = 0
    for a, b, (lon, lat) in pairs:
        e, n = to_bng([lon], [lat])
        hit = j[(j["street_a"] == a) & (j["street_b"] == b)]
        d = np.hypot(hit["easting"] - e[0], hit["northing"] - n[0])
        if len(hit) and d.min() < 60 and (hit.loc[d.idxmin(), "source"] == "osm"):
            assert hit.loc[d.idxmin(), "precision_m"] <= 50
            found += 1
    assert found == len(pairs)


def test_approximate_junctions_from_postcode_points_outside_the_network(gaz):
    j = gaz.entries[
        (gaz.entries["entry_type"] == "junction") & (gaz.entries["source"] == "postcode_streets")
    ]
    assert j["borough"].nunique() == 33
    assert (j["precision_m"] >= 150).all()
    # a real outer-London pair: both streets' points come within the threshold of the junction
    sp = gaz.street_points
    streets = gaz.entries[gaz.entries["entry_type"] == "street"]
    sample = j[j["borough"] == "Bromley"].head(20)
    for r in sample.itertuples():
        for key in (r.street_a, r.street_b):
            ids = streets[(streets["key"] == key) & (streets["borough"] == "Bromley")]["entry_id"]
            p = sp[sp["entry_id"].isin(ids)]
            d = np.hypot(p["easting"] - r.easting, p["northing"] - r.northing).min()
            assert d <= build_mod.POSTCODE_JUNCTION_M


def test_places_and_search_keys(gaz):
    e, k = gaz.entries, gaz.keys
    st = e[(e["entry_type"] == "station") & (e["name"] == "Brixton")]
    assert len(st) == 1 and st.iloc[0]["borough"] == "Lambeth"
    assert "brixton station" in set(k.loc[k["entry_id"] == st.iloc[0]["entry_id"], "key"])
    # bus stop names are split into their parts
    bs = k[k["key"] == "parliament square"].merge(e, on="entry_id")
    assert (bs["entry_type"] == "bus_stop").any()
    # every alias resolves to a real entry of its declared type
    assert gaz.manifest["unresolved_aliases"] == []
    aliases = pd.read_csv(
        GAZETTEER_TABLES_DIR / "aliases.csv",
        dtype=str,
        keep_default_na=False,
    )
    al = k[k["key_kind"] == "alias"].merge(e[["entry_id", "entry_type"]], on="entry_id")
    for r in aliases.itertuples():
        got = al[al["key"] == normalise_name(r.alias)]
        assert len(got) >= 1, r.alias
        assert set(got["entry_type"]) == {r.target_type}
    rlh = al[al["key"] == "rlh"].merge(e[["entry_id", "borough"]], on="entry_id")
    assert set(rlh["borough"]) == {"Tower Hamlets"}
    # the same hospital from CQC and NHS data is one entry; same-named hospitals far apart stay
    assert (e["key"] == "guys hospital").sum() == 1
    qm = e[(e["entry_type"] == "hospital") & (e["key"] == "queen marys hospital")]
    assert {"Wandsworth", "Bexley"} <= set(qm["borough"])
    # areas sit at their postcode district
    brixton = e[
        (e["entry_type"] == "area") & (e["key"] == "brixton") & (e["source"] == "wikipedia")
    ].iloc[0]
    sw2 = e[(e["entry_type"] == "postcode_district") & (e["name"] == "SW2")].iloc[0]
    assert (brixton["easting"], brixton["northing"]) == (sw2["easting"], sw2["northing"])


def test_entries_follow_the_contract(gaz):
    e = gaz.entries
    assert list(e.columns) == build_mod.ENTRY_COLUMNS
    assert e["entry_id"].is_unique
    assert set(e["entry_type"]) == set(build_mod.ENTRY_TYPES)
    assert (e["entry_id"].str.split(":").str[0] == e["entry_type"]).all()
    assert (e["key"] == e["name"].map(normalise_name)).all()
    assert e["easting"].between(500000, 565000).all()
    assert e["northing"].between(155000, 205000).all()
    assert (e["precision_m"] > 0).all()
    pc = e[e["entry_type"] == "postcode"]
    assert pc["lsoa_code"].str.startswith("E01").mean() > 0.999
    jn = e[e["entry_type"] == "junction"]
    assert jn["street_a"].notna().all() and (jn["street_a"] < jn["street_b"]).all()
    assert set(gaz.keys["key_kind"]) == {"name", "variant", "alias"}
    assert gaz.keys["entry_id"].isin(e["entry_id"]).all()
    assert gaz.street_points["entry_id"].isin(e.loc[e["entry_type"] == "street", "entry_id"]).all()


def test_manifest_and_attribution(gaz, sources_dir):
    m = gaz.manifest
    assert m["version"] == gaz.version == gaz.path.name
    cp = [s for s in m["sources"] if s["path"].endswith("Data/CSV/sw.csv")][0]
    data = (sources_dir / cp["path"]).read_bytes()
    assert cp["sha256"] == hashlib.sha256(data).hexdigest()
    assert cp["bytes"] == len(data) and cp["rows"] == data.count(b"\n")
    assert sum(m["counts"].values()) == len(gaz.entries)
    cov = m["network_coverage"]
    assert {"Westminster", "City of London", "Camden"} <= set(cov["boroughs_with_blocks"])
    # the 2018 OpenMapTiles roads stop at the Greenwich meridian: the east is missing or partial
    assert {"Havering", "Bexley", "Redbridge", "Barking and Dagenham"} == set(
        cov["boroughs_without_network"]
    )
    assert len(cov["boroughs_with_blocks"]) >= 29
    part = cov["boroughs_partly_covered"]
    assert {"Bromley", "Greenwich", "Newham"} <= set(part)
    assert max(part["Bromley"], part["Greenwich"], part["Newham"]) < 0.5
    assert cov["boroughs_with_blocks"]["Lambeth"]["postcodes_near_network"] > 0.95
    assert "--network" in cov["note"]
    text = (gaz.path / "ATTRIBUTION.txt").read_text(encoding="utf-8")
    for needle in (
        "OpenStreetMap contributors",
        "Open Government Licence",
        "GeoNames",
        "CC BY 4.0",
        "Wikipedia",
        "CC BY-SA",
        "TfL",
        "Royal Mail",
        "Land Registry",
    ):
        assert needle in text


# --------------------------------------------------------------------------- network


def test_blocks_run_junction_to_junction(gaz):
    b = gaz.blocks
    assert b.crs.to_epsg() == 27700
    assert b["block_id"].is_unique
    assert (b.geometry.geom_type == "LineString").all()
    assert np.allclose(b["length_m"], b.geometry.length)
    # no node of degree 2 joins two blocks with the same names (they would have been merged)
    ends = np.round(
        np.vstack(
            [shapely.get_coordinates(shapely.get_point(b.geometry.values, i)) for i in (0, -1)]
        ),
        1,
    )
    keys = np.concatenate([b["names_key"].to_numpy()] * 2)
    df = pd.DataFrame({"x": ends[:, 0], "y": ends[:, 1], "k": keys})
    deg = df.groupby(["x", "y"]).agg(n=("k", "size"), kinds=("k", "nunique"))
    loops = b.geometry.is_ring.sum()
    assert ((deg["n"] == 2) & (deg["kinds"] == 1)).sum() <= loops
    # a long street is split at its junctions: Oxford Street has many blocks
    ox = b[b["names_key"].str.split("|").map(lambda ks: "oxford street" in ks)]
    assert len(ox) >= 10 and ox["length_m"].max() < 800


def test_snap_to_blocks_prefers_named_street(gaz):
    b = gaz.blocks[(gaz.blocks["length_m"] > 60) & (gaz.blocks["names_key"] != "")]
    b = b.sample(200, random_state=3)
    mid = shapely.line_interpolate_point(b.geometry.values, 0.5, normalized=True)
    e, n = shapely.get_x(mid), shapely.get_y(mid)
    got = gaz.snap_to_blocks(e, n, 5.0)
    assert (got == b["block_id"].to_numpy()).mean() > 0.95
    keys = [k.split("|")[0] for k in b["names_key"]]
    got_named = gaz.snap_to_blocks(e + 12.0, n, 60.0, street_keys=keys)
    by_id = gaz.blocks.set_index("block_id")["names_key"]
    for g, k in zip(got_named, keys, strict=True):
        assert g is not None and k in by_id[g].split("|")
    none = gaz.snap_to_blocks(e, n, 60.0, street_keys=["no such street"] * len(e))
    assert all(x is None for x in none)
    far = gaz.snap_to_blocks([545000.0], [165000.0], 50.0)  # Bromley: no network there
    assert far[0] is None


def test_lsoa_of_agrees_with_ons_lookup(gaz):
    pc = gaz.entries[gaz.entries["entry_type"] == "postcode"].sample(1000, random_state=1)
    got = gaz.lsoa_of(pc["easting"], pc["northing"])
    assert (got == pc["lsoa_code"].to_numpy()).mean() > 0.9
    assert gaz.lsoa_of([400000.0], [300000.0])[0] is None


def test_load_missing_raises(tmp_path):
    with pytest.raises(GazetteerNotBuilt):
        load(tmp_path)
    (tmp_path / "gazetteer").mkdir()
    (tmp_path / "gazetteer" / "CURRENT").write_text("nope\n")
    with pytest.raises(GazetteerNotBuilt):
        load(tmp_path)


def test_cli_stats_json(gazetteer_home, monkeypatch):
    from istvhub.cli import app
    from istvhub.core.config import get_settings

    monkeypatch.setenv("ISTVHUB_HOME", str(gazetteer_home))
    get_settings.cache_clear()
    res = CliRunner().invoke(app, ["gazetteer", "stats", "--json"])
    get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    assert len(s["by_borough"]) == 33
    for b, d in s["by_borough"].items():
        assert d["postcode"] > 0 and d["street"] > 0, b
    assert s["by_borough"]["Westminster"]["blocks"] > 1000
    assert s["by_borough"]["Havering"]["blocks"] == 0


# --------------------------------------------------------------------------- small builds


@pytest.fixture(scope="module")
def mini_sources(sources_dir, tmp_path_factory) -> Path:
    """A sources dir from real files: Code-Point EC/WC, the City and Westminster LSOAs, the
    boroughs, the City OSM ways, and a Price Paid file in its raw layout (no header) made from
    real postcode/street rows. No ONS lookup, so LSOAs come from point-in-polygon."""
    root = tmp_path_factory.mktemp("mini-sources")
    links = [
        "boundaries/london_boroughs.gpkg",
        "boundaries/lsoa2011/E09000001.json",
        "boundaries/lsoa2011/E09000033.json",
        "postcodes/codepoint-open/Doc/Code-Point_Open_Column_Headers.csv",
        "postcodes/codepoint-open/Data/CSV/ec.csv",
        "postcodes/codepoint-open/Data/CSV/wc.csv",
        "streets/osm/city_of_london_drive_ways.geojson",
    ]
    for rel in links:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(sources_dir / rel, root / rel)
    ps = pd.read_csv(
        sources_dir / "streets/postcode-streets/postcode_streets_london_areas.csv",
        dtype=str,
        keep_default_na=False,
    )
    ps = ps[ps["postcode"].str.match(r"^(EC|WC)")].head(1500)
    pp = pd.DataFrame({c: "" for c in PRICE_PAID_COLUMNS}, index=ps.index)
    pp["id"] = [f"{{{i:08d}-0000-0000-0000-000000000000}}" for i in range(len(ps))]
    pp["price"] = "500000"
    pp["date"] = "2020-01-01 00:00"
    pp["postcode"] = ps["postcode"]
    pp["type"], pp["new"], pp["duration"] = "F", "N", "L"
    pp["street"] = ps["street"]
    pp["town"] = "LONDON"
    pp["category"], pp["status"] = "A", "A"
    (root / "streets/price-paid").mkdir(parents=True)
    pp.to_csv(root / "streets/price-paid/pp-sample.csv", header=False, index=False)
    return root


def test_price_paid_raw_layout_and_stable_ids(mini_sources, tmp_path):
    v1 = build_mod.build(sources=mini_sources, out=tmp_path / "a" / "gazetteer")
    v2 = build_mod.build(sources=mini_sources, out=tmp_path / "b" / "gazetteer")
    g1, g2 = load(tmp_path / "a"), load(tmp_path / "b")
    assert g1.version == v1.name and g2.version == v2.name
    # streets came from the Price Paid file, placed at their Code-Point postcodes
    ps = pd.read_csv(
        mini_sources / "streets/price-paid/pp-sample.csv",
        header=None,
        names=PRICE_PAID_COLUMNS,
        dtype=str,
    )
    streets = g1.entries[g1.entries["entry_type"] == "street"]
    want = {normalise_name(s) for s in ps["street"]}
    assert len(want - set(streets["key"])) <= len(want) * 0.02  # a few postcodes are retired
    assert len(g1.street_points) >= 0.9 * len(ps)
    # LSOA by point-in-polygon when no ONS lookup is present
    pc = g1.entries[g1.entries["entry_type"] == "postcode"]
    linked = pc["borough"].isin(["City of London", "Westminster"])
    assert pc.loc[linked, "lsoa_code"].str.fullmatch(r"E01\d{6}").fillna(False).mean() > 0.95
    # only those boroughs' LSOAs were given (a few units lie on the generalised boundary)
    assert pc.loc[~linked, "lsoa_code"].isna().mean() > 0.95
    # same input -> same ids
    assert g1.blocks["block_id"].tolist() == g2.blocks["block_id"].tolist()
    assert len(g1.blocks) > 500
    pd.testing.assert_frame_equal(g1.entries, g2.entries)
    pd.testing.assert_frame_equal(g1.keys, g2.keys)


def test_failed_build_keeps_previous_current(mini_sources, tmp_path, monkeypatch):
    out = tmp_path / "gazetteer"
    first = build_mod.build(sources=mini_sources, out=out)
    assert (out / "CURRENT").read_text().strip() == first.name

    def boom(path, obj):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(build_mod, "_write_json", boom)
    with pytest.raises(KeyboardInterrupt):
        build_mod.build(sources=mini_sources, out=out)
    assert (out / "CURRENT").read_text().strip() == first.name
    assert sorted(p.name for p in out.iterdir()) == sorted(["CURRENT", first.name])
    assert load(tmp_path).version == first.name


def test_missing_required_source_is_named(tmp_path):
    (tmp_path / "boundaries").mkdir()
    with pytest.raises(SourcesNotFound, match="codepoint"):
        build_mod.build(sources=tmp_path, out=tmp_path / "out")


def test_network_blocks_are_stable_when_rebuilt(sources_dir, gaz):
    """Rebuilding the network alone from the same files gives the session build's ids, and the
    London-wide fill (OpenMapTiles roads) leaves the detailed OSM clips' blocks as they were."""
    files = sorted((sources_dir / "streets/osm").glob("*"))
    files = [f for f in files if f.is_file() and not f.name.startswith(".")]
    filler = sorted((sources_dir / "streets/osm-london-2018").glob("*.gpkg"))
    lines = fill.read_network(files, filler, gaz.boroughs)
    blocks = net.build_blocks(lines, gaz.boroughs)
    blocks = blocks[blocks["borough"].notna()]
    assert blocks["block_id"].tolist() == gaz.blocks["block_id"].tolist()
    detailed = net.build_blocks(net.read_all_lines(files), gaz.boroughs)
    detailed = detailed[detailed["borough"].notna()]
    kept = detailed["block_id"].isin(set(gaz.blocks["block_id"])).to_numpy()
    # a detailed block changes only where a fill street joins it (a seam junction on it)
    seams = shapely.points(lines.attrs["seams"])
    assert len(seams) > 500 and gaz.manifest["seam_junctions"] == len(seams)
    lost = detailed.geometry.values[~kept]
    on_seam, _ = shapely.STRtree(seams).query(lost, predicate="dwithin", distance=0.05)
    joined = len(np.unique(on_seam))
    unexplained = (len(lost) - joined) / (len(detailed) - joined)
    assert unexplained < 0.01, unexplained


def test_fill_streets_meet_the_detailed_network_at_junctions(gaz, sources_dir):
    """Where a gap-fill street ends at a detailed clip's street, the two meet at a network
    node (a junction the geocoder can name), not a few metres apart."""
    files = sorted((sources_dir / "streets/osm").glob("*"))
    files = [f for f in files if f.is_file() and not f.name.startswith(".")]
    filler = sorted((sources_dir / "streets/osm-london-2018").glob("*.gpkg"))
    seams = fill.read_network(files, filler, gaz.boroughs).attrs["seams"]
    b = gaz.blocks
    ends = np.round(
        np.vstack(
            [
                shapely.get_coordinates(shapely.get_point(b.geometry.values, 0)),
                shapely.get_coordinates(shapely.get_point(b.geometry.values, -1)),
            ]
        ),
        1,
    )
    deg = pd.Series(1, index=pd.MultiIndex.from_arrays(ends.T)).groupby(level=[0, 1]).size()
    at = deg.reindex(pd.MultiIndex.from_arrays(np.round(seams, 1).T)).fillna(0)
    # a street ending on another: three block ends at the node (two where it continues a
    # street under another name; none where it continues the same one, merged)
    assert (at >= 3).mean() > 0.6 and (at >= 2).mean() > 0.8
    assert not b["block_id"].duplicated().any()


def test_fill_adds_no_second_copy_of_a_street(gaz, sources_dir):
    """Where the Westminster edges hold a street, the fill source adds no parallel copy of it:
    points along the edges' named blocks find one block of that name within 8 m, not two."""
    b = gaz.blocks
    west = b[(b["borough"] == "Westminster") & (b["names_key"] != "") & (b["length_m"] > 40)]
    west = west.sample(400, random_state=5)
    mid = shapely.line_interpolate_point(west.geometry.values, 0.5, normalized=True)
    tree = shapely.STRtree(b.geometry.values)
    pi, bi = tree.query(mid, predicate="dwithin", distance=8.0)
    names = b["names_key"].to_numpy()
    keys = west["names_key"].str.split("|").str[0].to_numpy()
    same = np.array([keys[p] in names[q].split("|") for p, q in zip(pi, bi, strict=True)])
    per_point = np.bincount(pi[same], minlength=len(west))
    assert (per_point == 1).mean() > 0.95
    # and the fill reaches beyond the clips: Lambeth, Wandsworth and Croydon have networks now
    by = gaz.coverage["boroughs_with_blocks"]
    assert by["Lambeth"]["blocks"] > 2000 and by["Croydon"]["blocks"] > 2000
    # nothing outside London's boundary plus the 200 m margin
    lon = gaz.boroughs.geometry.union_all().buffer(fill.CLIP_MARGIN_M + 10)
    assert shapely.within(b.geometry.values, lon).all()
    assert b["borough"].notna().all()


def test_cli_build_with_network_file(mini_sources, sources_dir, tmp_path):
    """`--network` replaces the default line files: here the Bloomsbury OSM PBF extract."""
    from istvhub.cli import app

    pbf = sources_dir / "streets/osm/bloomsbury.osm.pbf"
    res = CliRunner().invoke(
        app,
        [
            "gazetteer",
            "build",
            "--sources",
            str(mini_sources),
            "--out",
            str(tmp_path / "gazetteer"),
            "--network",
            str(pbf),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "street network covers" in res.output
    g = load(tmp_path)
    assert [s["path"] for s in g.manifest["sources"] if s["source"] == "osm"] == [str(pbf)]
    assert g.blocks["borough"].value_counts().idxmax() == "Camden"
    assert (
        g.blocks["highway"].isin(["footway", "path", "steps", "cycleway"]).sum()
        == (
            g.blocks["highway"].isin(["footway", "path", "steps", "cycleway"])
            & (g.blocks["names_key"] != "")
        ).sum()
    )  # paths only when named
    assert (
        "Westminster" not in g.manifest["network_coverage"]["boroughs_with_blocks"]
        or g.manifest["network_coverage"]["boroughs_with_blocks"]["Westminster"]["blocks"] < 400
    )


def test_killed_build_leftovers_are_removed(mini_sources, tmp_path):
    """A SIGKILLed build leaves only a hidden partial directory; the next build removes it."""
    import subprocess
    import sys

    out = tmp_path / "gazetteer"
    first = build_mod.build(sources=mini_sources, out=out)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    partial = out / f".building-20200101T000000Z-deadbeef-{dead}"
    partial.mkdir()
    (partial / "entries.parquet").write_bytes(b"partial")
    assert load(tmp_path).version == first.name  # the partial is never read
    second = build_mod.build(sources=mini_sources, out=out)
    assert not partial.exists()
    assert load(tmp_path).version == second.name != first.name


def test_os_open_roads_style_geopackage(mini_sources, sources_dir, tmp_path):
    """Any line layer with a name column: an OS Open Roads-shaped GeoPackage (road_node points
    first, road_link lines with name1/name2/class) made from the real City of London ways."""
    ways = gpd.read_file(sources_dir / "streets/osm/city_of_london_drive_ways.geojson")
    ways = ways.to_crs(27700)
    cls = {
        "primary": "A Road",
        "secondary": "B Road",
        "tertiary": "Classified Unnumbered",
        "residential": "Not Classified",
    }
    links = gpd.GeoDataFrame(
        {
            "name1": ways["name"],
            "name2": None,
            "class": [cls.get(h, "Unclassified") for h in ways["highway"]],
        },
        geometry=ways.geometry,
        crs=27700,
    )
    nodes = gpd.GeoDataFrame(
        {"form_of_road_node": ["junction"] * 10},
        geometry=links.geometry.iloc[:10].centroid,
        crs=27700,
    )
    gpkg = tmp_path / "oproad_city.gpkg"
    nodes.to_file(gpkg, layer="road_node")
    links.to_file(gpkg, layer="road_link")
    out = tmp_path / "gazetteer"
    build_mod.build(sources=mini_sources, out=out, networks=[gpkg])
    g = load(tmp_path)
    assert len(g.blocks) > 500
    assert set(g.blocks["highway"]) <= {
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
    }
    fen = g.blocks[g.blocks["names_key"] == "fenchurch street"]
    assert len(fen) >= 3 and (fen["highway"] == "tertiary").all()
    assert (g.entries["source"] == "osm").sum() > 0  # network junctions and network-only streets


def test_bus_stop_names_give_junctions_postcodes_miss(gaz):
    """'MARE STREET / WELL STREET' (Hackney): the two streets' postcode points are > 60 m apart,
    the bus stops name the corner."""
    e = gaz.entries
    j = e[
        (e["entry_type"] == "junction")
        & (e["street_a"] == "mare street")
        & (e["street_b"] == "well street")
        & (e["borough"] == "Hackney")
    ]
    assert len(j) >= 1
    r = j.iloc[0]
    assert r["precision_m"] <= 150
    stops = e[(e["entry_type"] == "bus_stop") & (e["key"] == "mare street well street")]
    assert len(stops) >= 1
    d = np.hypot(stops["easting"] - r["easting"], stops["northing"] - r["northing"])
    assert d.min() < 100
    assert (e.loc[e["entry_type"] == "junction", "source"] == "tfl_bus_stops").sum() > 100


def test_a_long_street_reaches_past_its_postcode_cluster(gaz):
    """East India Dock Road's postcode units cluster near Poplar while its bus stops run on to
    Leamouth: its reach (``extent_m``) shows the road, its postcode spread does not."""
    e = gaz.entries
    st = e[e["entry_type"] == "street"]
    eidr = st[(st["key"] == "east india dock road") & (st["borough"] == "Tower Hamlets")].iloc[0]
    assert eidr["extent_m"] >= 1000 and eidr["extent_m"] > eidr["precision_m"] + 300
    assert (st["extent_m"] >= st["precision_m"]).all()
    assert e.loc[e["entry_type"] != "street", "extent_m"].isna().all()
