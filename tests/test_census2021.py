"""Census 2021 areas (issue 19) with real ONS codes: both LSOA vintages in the gazetteer, the right
2021 child for a point in a split LSOA, one 2021 code for a merged pair, the codes on geocoded
records, and protected lsoas21/msoas21 layers in the GeoPackage export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from istvhub.gazetteer.load import load

# ONS exact-fit lookup: Lambeth E01033207 (2011) was split into these 2021 LSOAs (CHGIND S) ...
SPLIT_2011 = "E01033207"
SPLIT_2021 = ("E01033864", "E01033865", "E01033866")
# ... and Tower Hamlets E01003968 + E01003974 (2011) were merged into E01033879 (CHGIND M)
MERGED_2011 = ("E01003968", "E01003974")
MERGED_2021 = "E01033879"


@pytest.fixture(scope="module")
def gaz(gazetteer_home):
    return load(gazetteer_home)


def test_stats_report_both_vintages(gazetteer_home):
    from istvhub.cli import app

    out = CliRunner().invoke(app, ["gazetteer", "stats", "--home", str(gazetteer_home), "--json"])
    assert out.exit_code == 0, out.output
    areas = json.loads(out.output)["statistical_areas"]
    assert areas["lsoa2011"]["london"] == 4835
    assert areas["lsoa2021"]["london"] == 4994
    assert areas["msoa2021"]["london"] == 1002
    assert areas["lsoa11_to_21"] == {"U": 4659, "S": 313, "M": 44}
    assert len(areas["lsoa2021"]["by_borough"]) == 33


def test_lookup_carries_the_real_split_and_merge(gaz):
    lk = gaz.lsoa_lookup21
    split = lk[lk["lsoa_code"] == SPLIT_2011]
    assert set(SPLIT_2021) <= set(split["lsoa21_code"]) and set(split["change"]) == {"S"}
    merged = lk[lk["lsoa_code"].isin(MERGED_2011)]
    assert set(merged["lsoa21_code"]) == {MERGED_2021} and set(merged["change"]) == {"M"}


def test_point_in_a_split_lsoa_gets_its_own_2021_child(gaz):
    l21 = gaz.lsoas21.set_index("lsoa21_code")
    pts = [l21.loc[c].geometry.representative_point() for c in SPLIT_2021]
    e = np.array([p.x for p in pts])
    n = np.array([p.y for p in pts])
    lsoa21, msoa21 = gaz.areas21_of(e, n)
    assert list(lsoa21) == list(SPLIT_2021)  # each child, not the parent's other pieces
    assert set(gaz.lsoa_of(e, n)) == {SPLIT_2011}  # all three lie in the one 2011 LSOA
    assert all(m == l21.loc[c, "msoa21_code"] for m, c in zip(msoa21, SPLIT_2021, strict=True))


def test_points_in_a_merged_pair_share_one_2021_code(gaz):
    l11 = gaz.lsoas.drop_duplicates("lsoa_code").set_index("lsoa_code")
    pts = [l11.loc[c].geometry.representative_point() for c in MERGED_2011]
    e, n = np.array([p.x for p in pts]), np.array([p.y for p in pts])
    assert list(gaz.lsoa_of(e, n)) == list(MERGED_2011)
    assert list(gaz.areas21_of(e, n)[0]) == [MERGED_2021, MERGED_2021]


def test_outside_london_and_missing_points_get_no_area(gaz):
    lsoa, msoa = gaz.areas21_of(np.array([np.nan, 460000.0]), np.array([np.nan, 100000.0]))
    assert list(lsoa) == [None, None] and list(msoa) == [None, None]


def test_geocoded_records_carry_2021_codes_beside_2011(gazetteer_home, gaz):
    from istvhub.geocode.shared import shared_geocoder
    from istvhub.records import GEOCODE_COLUMNS

    geo = shared_geocoder(gazetteer_home)
    df = pd.DataFrame({"location_text": ["SE1 7EH", "home", "o/s 12 brixton hill sw2 1aa"]})
    res = geo.geocode_frame(df, department_col=None)
    assert list(res.columns) == list(GEOCODE_COLUMNS)
    first = res.iloc[0]
    assert first["geo_status"] == "located"
    want = gaz.areas21_of(np.array([first["easting"]]), np.array([first["northing"]]))
    assert first["lsoa21_code"] == want[0][0] and first["msoa21_code"] == want[1][0]
    assert str(first["lsoa21_code"]).startswith("E01") and str(first["lsoa_code"]).startswith("E01")
    assert res.iloc[1]["lsoa21_code"] is None or pd.isna(res.iloc[1]["lsoa21_code"])


def test_gpkg_export_has_protected_2021_layers(
    gazetteer_home, sources_dir, db_url, tmp_path, monkeypatch
):
    """Sample feeds in through ingest (geocoded), out through `istvhub hotblocks` as GeoPackage:
    lsoas21 and msoas21 codes all in the ONS 2021 file, no count 1-7, names given."""
    from istvhub.cli import app
    from istvhub.geocode.shared import shared_geocoder
    from istvhub.ingest.core import ingest_file
    from istvhub.store import open_store

    root = Path(__file__).resolve().parents[1] / "sample_feeds"
    files = sorted((root / "RJ122").glob("RJ122_2025-0[1-6].csv"))
    assert files, "sample feeds missing"
    store = open_store(db_url)
    geocoder = shared_geocoder(gazetteer_home, db_url)
    for f in files:
        assert ingest_file(f, store, geocoder=geocoder).status == "stored"
    store.dispose()
    from istvhub.core.config import get_settings

    home = tmp_path / "home"  # own secret, the shared real gazetteer
    home.mkdir()
    (home / "gazetteer").symlink_to(gazetteer_home / "gazetteer")
    monkeypatch.setenv("ISTVHUB_HOME", str(home))
    get_settings.cache_clear()
    out = tmp_path / "hot.gpkg"
    res = CliRunner().invoke(
        app,
        ["hotblocks", "--from", "2025-01", "--to", "2025-06", "--format", "gpkg"]
        + ["--output", str(out), "--db", db_url],
    )
    get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"lsoas", "lsoas21", "msoas21"} <= layers
    ons = pyogrio.read_dataframe(
        sources_dir / "boundaries/census2021/london_lsoa21_bgc_27700.gpkg", read_geometry=False
    )
    for layer, code, valid in (
        ("lsoas21", "lsoa21_code", set(ons["LSOA21CD"])),
        ("msoas21", "msoa21_code", set(ons["MSOA21CD"])),
    ):
        g = pyogrio.read_dataframe(out, layer=layer)
        assert len(g), f"{layer} is empty"
        assert set(g[code]) <= valid
        counts = g["count"].dropna()
        assert not counts.between(1, 7).any()
        assert g.geometry.notna().all()
        assert g[code.replace("_code", "_name")].notna().all()


def test_convert_maps_unchanged_and_merged_and_splits_only_by_records(gaz):
    from istvhub.areas.convert import convert
    from istvhub.disclosure.rules import UNSUPPRESSED, get_rule

    agg = pd.DataFrame(
        {
            "lsoa_code": ["E01004763", *MERGED_2011, SPLIT_2011, "E01003109", "E01999999"],
            "count": [12, 6, 9, 20, 10, 11],
        }
    )
    # the hub's own points: 3 records in the first child of the split LSOA, 1 in the second;
    # none in E01003109 (also split), so that one stays unconverted
    recs = pd.DataFrame(
        {
            "lsoa_code": [SPLIT_2011] * 4,
            "lsoa21_code": [SPLIT_2021[0]] * 3 + [SPLIT_2021[1]],
        }
    )
    raw = convert(agg, gaz.lsoa_lookup21, recs, UNSUPPRESSED).set_index("lsoa21_code", drop=False)
    assert raw.loc["E01004763", "count"] == 12 and raw.loc["E01004763", "method"] == "unchanged"
    assert raw.loc[MERGED_2021, "count"] == 15 and raw.loc[MERGED_2021, "method"] == "merged"
    assert raw.loc[MERGED_2021, "lsoa11_codes"] == " ".join(sorted(MERGED_2011))
    assert raw.loc[SPLIT_2021[0], "count"] == 15 and raw.loc[SPLIT_2021[1], "count"] == 5
    assert SPLIT_2021[2] not in raw.index  # no record there: no share invented
    unresolved = raw[raw["lsoa21_code"].isna()]
    assert set(unresolved["method"]) == {"split_unresolved", "not_in_lookup"}
    assert set(unresolved["lsoa11_codes"]) == {"E01003109", "E01999999"}
    # for publication the default rule applies again: 1-7 suppressed, the rest rounded
    pub = convert(agg, gaz.lsoa_lookup21, recs, get_rule(None)).set_index("lsoa21_code")
    assert pub.loc[SPLIT_2021[1], "suppressed"] and pd.isna(pub.loc[SPLIT_2021[1], "count"])
    assert pub["count"].dropna().ge(8).all()


def test_cli_lsoa_convert(gazetteer_home, tmp_path, monkeypatch):
    from istvhub.cli import app
    from istvhub.core.config import get_settings

    home = tmp_path / "home"
    home.mkdir()
    (home / "gazetteer").symlink_to(gazetteer_home / "gazetteer")
    monkeypatch.setenv("ISTVHUB_HOME", str(home))
    get_settings.cache_clear()
    src = tmp_path / "lsoa2011.csv"
    pd.DataFrame({"LSOA11CD": ["E01004763", *MERGED_2011], "n": [40, 20, 25]}).to_csv(
        src, index=False
    )
    out = tmp_path / "lsoa2021.csv"
    res = CliRunner().invoke(
        app,
        ["lsoa", "convert", str(src), "--output", str(out)]
        + ["--code-column", "LSOA11CD", "--count-column", "n"],
    )
    get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).set_index("lsoa21_code")
    assert got.loc["E01004763", "count"] == 40 and got.loc[MERGED_2021, "count"] == 45


def test_equality_scoped_to_a_census2021_area(gazetteer_home, db_url, tmp_path):

    from istvhub.equality.core import EqualityError
    from istvhub.equality.read import read_counts
    from istvhub.equality.service import build_table
    from istvhub.geocode.shared import shared_geocoder
    from istvhub.ingest.core import ingest_file
    from istvhub.store import open_store

    root = Path(__file__).resolve().parents[1] / "sample_feeds"
    store = open_store(db_url)
    geocoder = shared_geocoder(gazetteer_home, db_url)
    for f in sorted((root / "RJ122").glob("RJ122_2025-0[1-3].csv")):
        ingest_file(f, store, geocoder=geocoder)
    recs = store.current_records()
    msoa = recs["msoa21_code"].dropna().value_counts().index[0]
    want = int((recs["msoa21_code"] == msoa).sum())
    got = read_counts(store.engine, ("sex",), start="2025-01", end="2025-03", areas21=(msoa,))
    assert int(got["n"].sum()) == want > 0
    lsoa = recs.loc[recs["msoa21_code"] == msoa, "lsoa21_code"].iloc[0]
    one = read_counts(store.engine, ("sex",), start="2025-01", end="2025-03", areas21=(lsoa,))
    assert int(one["n"].sum()) == int((recs["lsoa21_code"] == lsoa).sum())
    t = build_table(
        store.engine,
        start="2025-01",
        end="2025-03",
        by="sex",
        areas21=(msoa.lower(),),
        home=tmp_path,
    )
    assert msoa in t.scope
    with pytest.raises(EqualityError, match="--area"):
        build_table(store.engine, start="2025-01", end="2025-03", by="sex", areas21=("SW2",))
    store.dispose()
