"""Hot blocks core: snapping on the real Westminster network, disclosure control, concentration,
determinism and exports read back with pyogrio."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub.disclosure.rules import get_rule, load_rules, protect, protect_total
from istvhub.hotblocks.aggregate import Filters, build_layers, filter_records, parse_hours
from istvhub.hotblocks.assign import BlockIndex, assign, h3_cells, h3_parent
from istvhub.hotblocks.concentration import concentration, gini, pct_units_holding
from istvhub.hotblocks.export import layer_paths, write_layers
from istvhub.hotblocks.sample import blocks_from_osm_edges, synthetic_records, westminster_lsoas

NHS = get_rule("nhs_hes")
ONS = get_rule("ons_10_5")
#: every column a layer may carry: nothing from a record's text, ids or times
ALLOWED_COLUMNS = {
    "block_id",
    "name",
    "borough",
    "length_m",
    "count",
    "rate_per_100m",
    "rank",
    "share",
    "suppressed",
    "hex_id",
    "h3_res",
    "lsoa_code",
    "lsoa_name",
    "lsoa21_code",  # Census 2021 area layers: codes and names, aggregates only
    "lsoa21_name",
    "msoa21_code",
    "msoa21_name",
    "geometry",
    "wkt",
    "section",
    "key",
    "value",
    "scope",
    "pct_units",
    "pct_incidents",
}


@pytest.fixture(scope="module")
def blocks(sources_dir):
    return blocks_from_osm_edges(sources_dir)


@pytest.fixture(scope="module")
def index(blocks):
    return BlockIndex(blocks)


@pytest.fixture(scope="module")
def lsoas(sources_dir):
    return westminster_lsoas(sources_dir)


def _street(blocks, key):
    return blocks[blocks["names_key"].fillna("").str.split("|").map(lambda ks: key in ks)]


def _rec(x, y, match_type="postcode", matched_name=None, precision=20.0):
    return {
        "geo_status": "located",
        "match_type": match_type,
        "easting": x,
        "northing": y,
        "precision_m": precision,
        "matched_name": matched_name,
        "lsoa_code": None,
    }


def _between(blocks):
    """A point between Frith Street and Greek Street (Soho, parallel, ~58 m apart) at 38 m from
    Frith and 20 m from Greek, plus the two streets' geometries."""
    frith = shapely.union_all(_street(blocks, "frith street").geometry.values)
    greek = shapely.union_all(_street(blocks, "greek street").geometry.values)
    mid = shapely.line_interpolate_point(shapely.line_merge(frith), 0.5, normalized=True)
    on_greek = shapely.shortest_line(mid, greek).coords[1]
    v = np.subtract(on_greek, mid.coords[0])
    d = np.hypot(*v)
    p = np.asarray(mid.coords[0]) + v / d * (d - 20.0)
    return p, frith, greek, mid


def test_point_on_street_snaps_to_that_street_not_the_parallel_one(blocks, index):
    p, frith, greek, mid = _between(blocks)
    assert 30 < shapely.distance(shapely.Point(p), frith) < 45
    near_frith = np.asarray(mid.coords[0]) + (p - np.asarray(mid.coords[0])) * 0.1
    recs = pd.DataFrame([_rec(*near_frith), _rec(*p)])
    a = assign(recs, index)
    by_rec = a.blocks.set_index("record")["block_id"]
    names = blocks.set_index("block_id")["names_key"]
    assert names[by_rec[0]] == "frith street"
    assert names[by_rec[1]] == "greek street"  # unnamed point: plain nearest block


def test_named_street_is_never_crossed(blocks, index):
    """A junction on Frith Street that sits nearer Greek Street stays on Frith Street."""
    p, *_ = _between(blocks)
    recs = pd.DataFrame(
        [_rec(*p, "junction", "Frith St / Old Compton St"), _rec(*p, "junction", "Frith Street")]
    )
    a = assign(recs, index)
    names = blocks.set_index("block_id")["names_key"]
    got = a.blocks.set_index("record")["block_id"]
    assert {names[got[0]], names[got[1]]} <= {"frith street", "old compton street"}
    assert names[got[1]] == "frith street"
    assert (a.records["snap_status"] == "snapped").all()


def test_whole_street_match_is_spread_over_that_streets_blocks(blocks, index):
    frith = _street(blocks, "frith street")
    c = shapely.centroid(shapely.union_all(frith.geometry.values))
    recs = pd.DataFrame(
        [
            _rec(c.x, c.y, "street", "Frith Street", precision=200.0),
            _rec(c.x - 2500, c.y, "street", "Frith Street", precision=200.0),
        ]
    )
    a = assign(recs, index)
    spread = a.blocks[a.blocks["record"] == 0]
    assert set(spread["block_id"]) == set(frith["block_id"])
    assert spread["weight"].sum() == pytest.approx(1.0)
    # 2.5 km west (Mayfair, on the network) there is no Frith Street: not snapped anywhere
    assert a.records["snap_status"].tolist() == ["spread", "street_not_in_network"]


def _gap_point(index, lo=80.0, hi=250.0):
    """A real point inside the network's extent with the nearest block lo..hi m away (a park)."""
    x0, y0, x1, y1 = index.blocks.total_bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 50.0), np.arange(y0, y1, 50.0))
    pts = shapely.points(xs.ravel(), ys.ravel())
    d = shapely.distance(pts, shapely.union_all(index.geoms))
    i = np.flatnonzero((d > lo) & (d < hi))[0]
    return shapely.get_x(pts[i]), shapely.get_y(pts[i])


def test_too_far_imprecise_outside_and_unlocated_are_not_snapped(blocks, index):
    p, *_ = _between(blocks)
    gap = _gap_point(index)
    recs = pd.DataFrame(
        [
            _rec(*gap),  # in a gap of the network (a park): too far from any block
            _rec(p[0], p[1] + 8000),  # 8 km north of Soho, beyond the Westminster network
            _rec(*p, precision=800.0),  # a postcode-sector centroid
            {**_rec(*p), "geo_status": "home"},
            _rec(*p, "area", "Soho", precision=400.0),
        ]
    )
    a = assign(recs, index)
    assert a.records["snap_status"].astype(str).tolist() == [
        "too_far",
        "outside_network",
        "imprecise",
        "not_located",
        "not_snappable",
    ]
    assert a.blocks.empty
    assert a.records["hex_10"].isna().tolist() == [False, False, True, True, True]
    assert a.records["hex_8"].isna().tolist() == [False, False, True, True, False]


def test_imprecise_junction_goes_to_the_networks_own_junction(blocks, index):
    """A junction placed ~150 m off (from postcodes) lands on a block that meets both streets."""
    frith = _street(blocks, "frith street")
    compton = _street(blocks, "old compton street")
    node = shapely.intersection(
        shapely.union_all(frith.geometry.values), shapely.union_all(compton.geometry.values)
    )
    node = shapely.get_geometry(node, 0) if node.geom_type.startswith("Multi") else node
    recs = pd.DataFrame(
        [
            _rec(node.x + 110, node.y + 90, "junction", "Frith Street / Old Compton Street", 165.0),
            _rec(node.x + 110, node.y + 90, "junction", "Frith Street / Baker Street", 165.0),
        ]
    )
    a = assign(recs, index)
    assert a.records["snap_status"].astype(str).tolist() == ["snapped", "imprecise"]
    got = blocks.set_index("block_id").loc[a.blocks["block_id"].iloc[0]]
    assert got["names_key"] in ("frith street", "old compton street")
    assert shapely.distance(got.geometry, node) < 0.5  # the block touches the junction


@settings(max_examples=60, deadline=None)
@given(st.floats(51.28, 51.70), st.floats(-0.51, 0.33))
def test_h3_parent_bits_equal_h3(lat, lon):
    c10 = h3_cells(np.array([lat]), np.array([lon]), 10)
    for res in (8, 9):
        want = h3.str_to_int(h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 10), res))
        assert int(h3_parent(c10, res)[0]) == want


def test_lsoa_from_record_or_point_in_polygon(blocks, index, lsoas):
    p, *_ = _between(blocks)
    recs = pd.DataFrame([_rec(*p), {**_rec(*p), "lsoa_code": "E01004763"}])
    a = assign(recs, index, lsoas)
    inside = lsoas[lsoas.contains(shapely.Point(p))]["lsoa_code"].iloc[0]
    assert a.records["lsoa_code"].tolist() == [inside, "E01004763"]


# --- disclosure control -------------------------------------------------------------------


def test_suppression_and_rounding_by_hand():
    counts = pd.Series([0, 1, 7, 8, 12, 13, 12.5, 100, 2.4], index=list("abcdefghi"))
    p = protect(counts, NHS)
    assert p["suppressed"].tolist() == [False, True, True, False, False, False, False, False, True]
    assert p["count"].tolist()[0] == 0
    assert p["count"].tolist()[3:8] == [10, 10, 15, 15, 100]
    assert p["count"][p["suppressed"]].isna().all()
    # the total is computed from the raw counts, then rounded
    assert protect_total(counts.sum(), NHS) == 155.0  # 155.9 -> 155
    assert protect_total(6, NHS) is None
    assert protect_total(0, NHS) == 0.0
    assert protect_total(9, ONS) is None
    assert protect_total(10, ONS) == 10.0


def test_secondary_suppression_of_a_lone_suppressed_cell():
    p = protect(pd.Series([3, 40, 9, 22]), NHS)
    assert p["suppressed"].tolist() == [True, False, True, False]
    # without a total shown, no secondary suppression is needed
    p2 = protect(pd.Series([3, 40, 9, 22]), NHS, total_shown=False)
    assert p2["suppressed"].tolist() == [True, False, False, False]


def test_rules_file_has_the_documented_rules():
    default, rules = load_rules()
    assert default == "nhs_hes"
    assert (rules["nhs_hes"].suppress_max, rules["nhs_hes"].round_to) == (7, 5)
    assert (rules["ons_10_5"].suppress_max, rules["ons_10_5"].round_to) == (9, 5)
    assert "opensafely" in rules


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=40),
    st.sampled_from(["nhs_hes", "opensafely", "ons_10_5"]),
)
def test_published_counts_are_never_small_and_always_rounded(values, rule_name):
    rule = get_rule(rule_name)
    p = protect(pd.Series(values), rule)
    pub = p["count"].dropna().to_numpy()
    assert not ((pub > 0) & (pub <= rule.suppress_max)).any()
    assert np.all(pub % rule.round_to == 0)
    raw = np.asarray(values)[~p["suppressed"].to_numpy()]
    assert np.all(np.abs(pub - raw) <= rule.round_to / 2 + 1e-9)


# --- concentration ------------------------------------------------------------------------


def test_concentration_by_hand():
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)
    assert gini([5, 5, 5, 5]) == pytest.approx(0.0)
    assert pct_units_holding([10, 10, 0, 0], 0.5) == 25.0
    assert pct_units_holding([10, 10, 0, 0], 0.25) == 25.0
    c = concentration([1, 1, 1, 1, 6])
    assert c.pct_units_for_50 == 20.0
    lz = c.lorenz
    assert lz["pct_incidents"].iloc[0] == 0 and lz["pct_incidents"].iloc[-1] == 100
    assert lz["pct_incidents"].is_monotonic_increasing


# --- layers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def records(blocks):
    return synthetic_records(blocks, 4000, seed=11)


def test_same_inputs_same_blocks_and_numbers(records, blocks, lsoas):
    f = Filters("2024-01", "2024-03")
    a = build_layers(records, blocks, f, NHS, lsoas=lsoas)
    b = build_layers(
        records.sample(frac=1.0, random_state=3), BlockIndex(blocks), f, NHS, lsoas=lsoas
    )
    pd.testing.assert_frame_equal(
        a.blocks.drop(columns="geometry"), b.blocks.drop(columns="geometry")
    )
    pd.testing.assert_frame_equal(
        a.hexes.drop(columns="geometry"), b.hexes.drop(columns="geometry")
    )
    pd.testing.assert_frame_equal(
        a.lsoas.drop(columns="geometry"), b.lsoas.drop(columns="geometry")
    )
    sa = a.summary[~a.summary["key"].isin(["built_at", "build_seconds"])].reset_index(drop=True)
    sb = b.summary[~b.summary["key"].isin(["built_at", "build_seconds"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(sa, sb)


def test_layers_counts_match_the_records(records, blocks, lsoas):
    layers = build_layers(
        records, blocks, Filters("2024-01", "2024-03"), get_rule(unsuppressed=True), lsoas=lsoas
    )
    assert layers.blocks["count"].sum() == pytest.approx(len(records))
    assert layers.hexes["count"].sum() == len(records)
    kv = dict(zip(layers.summary["key"], layers.summary["value"], strict=True))
    assert "UNSUPPRESSED" in kv["WARNING"]
    assert kv["records_in_filter"] == str(len(records))


def test_hours_wrap_midnight_and_fall_back_to_arrival(records):
    df = records.copy()
    df.loc[df.index[:50], "incident_time"] = None  # these must use arrival time
    f = Filters("2024-01", "2024-03", hours=parse_hours("22-04"))
    kept, basis = filter_records(df, f)
    hours = pd.to_datetime(kept["arrival_at"]).dt.hour.where(
        kept["incident_time"].isna(),
        [t.hour if t is not None else -1 for t in kept["incident_time"]],
    )
    assert hours.isin([22, 23, 0, 1, 2, 3]).all()
    assert basis["arrival_time"] > 0 and basis["incident_time"] > 0
    assert basis["arrival_time"] + basis["incident_time"] == len(kept)


def _assert_safe(df: pd.DataFrame, rule=NHS):
    assert set(df.columns) <= ALLOWED_COLUMNS, set(df.columns) - ALLOWED_COLUMNS
    if "count" in df.columns:
        c = pd.to_numeric(df["count"], errors="coerce").dropna()
        assert not ((c >= 1) & (c <= rule.suppress_max)).any()
        assert (c % rule.round_to == 0).all()
    if "value" in df.columns:  # summary: every numeric value is rounded and never 1-7
        v = pd.to_numeric(
            df.loc[df["section"].isin(["total", "not_located", "not_on_block"]), "value"],
            errors="coerce",
        ).dropna()
        assert not ((v >= 1) & (v <= 7)).any() and (v % 5 == 0).all()


def test_gpkg_written_every_layer_read_back_and_safe(records, blocks, lsoas, tmp_path):
    small = records.sample(400, random_state=1)  # sparse: many blocks of 1-7 incidents
    layers = build_layers(small, blocks, Filters("2024-01", "2024-03"), NHS, lsoas=lsoas)
    raw = build_layers(small, blocks, Filters("2024-01", "2024-03"), get_rule(unsuppressed=True))
    small_ids = set(raw.blocks.loc[raw.blocks["count"] < NHS.threshold - 0.5, "block_id"])
    assert small_ids  # the sample has blocks of 1-7 ...
    # ... and none of them is listed: a block with 1-7 is left out exactly as an empty one is
    assert not small_ids & set(layers.blocks["block_id"])
    assert not layers.blocks["suppressed"].any() and layers.blocks["count"].notna().all()
    out = tmp_path / "hot.gpkg"
    write_layers(layers, out, "gpkg")
    names = [n for n, _ in pyogrio.list_layers(out)]
    assert names == [
        *("blocks", "hexes", "lsoas", "lsoas21", "msoas21"),
        "summary",
        "concentration",
    ]
    for name in names:
        df = pyogrio.read_dataframe(out, layer=name)
        assert len(df) == len(getattr(layers, name))
        _assert_safe(df)
        text = df.drop(columns=[c for c in ("geometry",) if c in df.columns]).astype(str)
        assert not text.isin(small["department"].unique()).any().any()  # no record values
    info = pyogrio.read_info(out, layer="blocks")
    assert "27700" in info["crs"]
    blk = pyogrio.read_dataframe(out, layer="blocks")
    assert blk["suppressed"].astype(bool).sum() == layers.blocks["suppressed"].sum()
    assert blk.loc[blk["suppressed"].astype(bool), "count"].isna().all()


@pytest.mark.parametrize("fmt", ["geojson", "csv", "parquet"])
def test_other_formats(records, blocks, lsoas, tmp_path, fmt):
    layers = build_layers(
        records.head(1500), blocks, Filters("2024-01", "2024-03"), NHS, lsoas=lsoas
    )
    files = write_layers(layers, tmp_path / f"hot.{fmt}", fmt)
    paths = layer_paths(tmp_path / f"hot.{fmt}", fmt)
    assert set(files) == set(paths.values())
    if fmt == "geojson":
        g = pyogrio.read_dataframe(paths["blocks"])
        assert "4326" in pyogrio.read_info(paths["blocks"])["crs"]
        assert g.total_bounds[0] > -0.3 and g.total_bounds[2] < 0.0  # lon of Westminster
        _assert_safe(pd.DataFrame(g))
    elif fmt == "csv":
        df = pd.read_csv(paths["blocks"])
        assert {"wkt", "hex_id"} <= set(df.columns)
        assert df["wkt"].str.startswith("LINESTRING").all()
        assert df["hex_id"].map(h3.is_valid_cell).all()
        hx = pd.read_csv(paths["hexes"])
        assert hx["hex_id"].map(h3.is_valid_cell).all()
        _assert_safe(df)
        _assert_safe(hx)
    else:
        import geopandas as gpd

        g = gpd.read_parquet(paths["blocks"])
        assert g.crs.to_epsg() == 27700
        _assert_safe(pd.DataFrame(g))
    for name in ("summary", "concentration"):
        assert paths[name].is_file()


def test_concentration_is_not_published_for_few_incidents(records, blocks):
    few = build_layers(records.head(30), blocks, Filters("2024-01", "2024-03"), NHS)
    kv = dict(zip(few.summary["key"], few.summary["value"], strict=True))
    assert kv["blocks_gini"] == "*" and "not published" in kv["blocks_note"]
    assert few.concentration.empty
    many = build_layers(records, blocks, Filters("2024-01", "2024-03"), NHS)
    kv = dict(zip(many.summary["key"], many.summary["value"], strict=True))
    assert 0 < float(kv["blocks_gini"]) < 1
    assert set(many.concentration["scope"]) == {"blocks", "hexes"}


def test_network_coverage_grid_matches_exact_distance(index):
    from istvhub.hotblocks.assign import NETWORK_COVERAGE_M

    rng = np.random.default_rng(4)
    x0, y0, x1, y1 = index.blocks.total_bounds
    x = rng.uniform(x0 - 1500, x1 + 1500, 20000)
    y = rng.uniform(y0 - 1500, y1 + 1500, 20000)
    d = shapely.distance(shapely.points(x, y), shapely.union_all(index.geoms))
    got = index.covered(x, y)
    clear = np.abs(d - NETWORK_COVERAGE_M) > 71  # the grid's stated error (cell diagonal)
    assert (got[clear] == (d[clear] <= NETWORK_COVERAGE_M)).all()
    assert got.any() and (~got).any()


def test_days_with_hours_across_midnight_mean_nights():
    arrivals = pd.to_datetime(
        [
            "2024-03-01 23:30",  # Friday 23:30 -> Friday night
            "2024-03-02 01:30",  # Saturday 01:30 -> Friday night
            "2024-03-03 01:30",  # Sunday 01:30 -> Saturday night
            "2024-03-04 01:30",  # Monday 01:30 -> Sunday night: out
            "2024-03-01 01:30",  # Friday 01:30 -> Thursday night: out
            "2024-03-02 12:00",  # Saturday noon: out of hours
        ]
    )
    df = pd.DataFrame(
        {
            "period": "2024-03",
            "department": "RJ122",
            "weapon": "sharp",
            "location_type": "street",
            "borough": "Westminster",
            "arrival_at": arrivals,
            "incident_date": None,
            "incident_time": None,
        }
    )
    f = Filters("2024-03", "2024-03", hours=parse_hours("22-04"), days=(4, 5))
    kept, basis = filter_records(df, f)
    assert kept.index.tolist() == [0, 1, 2]
    assert basis == {"incident_time": 0.0, "arrival_time": 3.0}


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_snapped_block_is_the_nearest_and_within_50m(index, seed):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = index.blocks.total_bounds
    n = 300
    recs = pd.DataFrame(
        [_rec(x, y) for x, y in zip(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), strict=True)]
    )
    a = assign(recs, index)
    pts = shapely.points(recs["easting"], recs["northing"])
    geom = dict(zip(index.block_ids, index.geoms, strict=True))
    got = a.blocks.set_index("record")["block_id"]
    d_got = shapely.distance(pts[got.index.to_numpy()], np.array([geom[b] for b in got]))
    assert (d_got <= 50.0 + 1e-9).all()
    d_min = shapely.distance(pts[:, None], index.geoms[None, :]).min(axis=1)
    assert np.allclose(d_got, d_min[got.index.to_numpy()])
    snapped = a.records["snap_status"].astype(str).eq("snapped").to_numpy()
    assert (snapped == (d_min <= 50.0)).all()  # everything within 50 m snaps, nothing else
    assert (a.blocks.groupby("record")["weight"].sum() == 1.0).all()


def test_report_is_self_contained_and_lists_no_small_block(records, blocks, sources_dir):
    import geopandas as gpd

    from istvhub.hotblocks.report import render_report

    layers = build_layers(records.head(1500), blocks, Filters("2024-01", "2024-03"), NHS)
    boroughs = gpd.read_file(sources_dir / "boundaries" / "london_boroughs.gpkg")
    html = render_report(layers, boroughs)
    assert html.count("data:image/png;base64,") == 2
    assert "http://" not in html and "https://" not in html
    top = html.split("<h2>Top 10 blocks</h2>")[1].split("</table>")[0]
    assert 1 < top.count("<tr>") == 1 + min(10, len(layers.blocks))
    # blocks of 1-7 are not listed at all (not even as '*'), so the top 10 shows counts only
    assert "<td>*</td>" not in top
    # and with nothing publishable the report still renders
    empty = build_layers(records.head(20), blocks, Filters("2024-01", "2024-03"), NHS)
    assert empty.blocks.empty and "Top 10 blocks" in render_report(empty, boroughs)
