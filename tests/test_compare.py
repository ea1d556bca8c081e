"""ED vs police-recorded violence: police.uk readers on a hand-written CSV (real Soho snap
points) and the real API samples, hand-computed comparison counts with disclosure control,
and `istvhub compare` end to end from a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from istvhub.compare.core import compare, protect_excess
from istvhub.compare.police import PoliceFileRejected, read_police, read_police_csv
from istvhub.compare.report import render_html, write_comparison
from istvhub.disclosure.rules import get_rule
from istvhub.hotblocks.aggregate import Filters
from istvhub.hotblocks.assign import BlockIndex, to_bng
from istvhub.hotblocks.sample import blocks_from_osm_edges, westminster_lsoas

FIX = Path(__file__).parent / "fixtures" / "police" / "2024-06-metropolitan-street.csv"
SAMPLES = sorted(
    (Path(__file__).resolve().parents[2] / "shared" / "police-uk-sample").glob("*.json")
)
NHS = get_rule("nhs_hes")
#: The police snap points of the fixture (lon, lat) and the ED attendances put on each.
POINTS = {
    "Frith Street": ((-0.132031, 51.514411), 20),
    "Greek Street": ((-0.130736, 51.513862), 12),
    "Dean Street": ((-0.133685, 51.515460), 3),
    "Old Compton Street": ((-0.132552, 51.512692), 0),
}
FREE_TEXT = "o/s the fixture bar nr soho sq"
JUNE = Filters(period_from="2024-06", period_to="2024-06")


@pytest.fixture(scope="module")
def index(sources_dir):
    return BlockIndex(blocks_from_osm_edges(sources_dir))


@pytest.fixture(scope="module")
def lsoas(sources_dir):
    return westminster_lsoas(sources_dir)


@pytest.fixture(scope="module")
def boroughs(sources_dir):
    return gpd.read_file(sources_dir / "boundaries" / "london_boroughs.gpkg").to_crs(27700)


def ed_records(period: str = "2024-06") -> pd.DataFrame:
    rows = []
    for street, ((lon, lat), n) in POINTS.items():
        x, y = to_bng(np.array([lon]), np.array([lat]))
        for i in range(n):
            rows.append(
                {
                    "record_id": f"cmp-{period}-{street}-{i}",
                    "department": "RJ122",
                    "period": period,
                    "arrival_at": pd.Timestamp(f"{period}-1{i % 9} 23:10"),
                    "incident_date": None,
                    "incident_time": None,
                    "weapon": "sharp" if i % 3 == 0 else "body_part",
                    "location_type": "street",
                    "geo_status": "located",
                    "match_type": "junction",
                    "lat": lat,
                    "lon": lon,
                    "easting": float(x[0]),
                    "northing": float(y[0]),
                    "precision_m": 10.0,
                    "matched_name": street,
                    "lsoa_code": None,
                    "borough": "Westminster",
                }
            )
    return pd.DataFrame(rows)


def by_street(table: pd.DataFrame) -> pd.DataFrame:
    """Rows keyed by the fixture street their block carries (a block name can be "A / B")."""
    key = (
        table["name"]
        .astype(str)
        .map(lambda n: next((s for s in POINTS if n.split(" / ")[0] == s), n))
    )
    return table.set_index(key)


# ------------------------------------------------------------------------------ readers


def test_csv_reader_keeps_violence_only_each_row_once():
    df = read_police_csv(FIX)
    # by hand: 4 + 12 + 9 + 8 + 2 (one Crime ID listed twice) in June, 2 in May, 1 without
    # a location; 3 ASB, 2 burglaries and 1 public order dropped
    assert len(df) == 38
    assert df["month"].value_counts().to_dict() == {"2024-06": 36, "2024-05": 2}
    assert df["lon"].isna().sum() == 1
    assert set(df["street"].dropna()) == set(POINTS)
    assert df["crime_key"].is_unique
    # the same file twice (or an overlapping extract) counts each crime once
    assert len(read_police([FIX, FIX])) == 38


@pytest.mark.skipif(not SAMPLES, reason="police-uk samples not present")
def test_api_json_counts_match_an_independent_count():
    per_file = {}
    keys: set = set()
    for p in SAMPLES:
        data = json.loads(p.read_text())
        viol = [c for c in data if c["category"] == "violent-crime"]
        per_file[p.name] = len(viol)
        keys |= {c["id"] for c in viol}
        assert len(read_police([p])) == len(viol)
    assert per_file and all(n > 0 for n in per_file.values())
    # the two extracts overlap: each crime (API id) is counted once
    assert len(read_police(SAMPLES)) == len(keys)


def test_rejections_name_file_and_field(tmp_path):
    bad = tmp_path / "street.csv"
    bad.write_text("Crime ID,Month,Longitude,Latitude,Location\nx,2024-06,0,51,On or near A\n")
    with pytest.raises(PoliceFileRejected) as e:
        read_police([bad])
    assert e.value.field == "Crime type" and e.value.file == "street.csv"
    month = tmp_path / "m.csv"
    month.write_text(FIX.read_text().replace("2024-05", "May 2024", 1))
    with pytest.raises(PoliceFileRejected) as e:
        read_police([month])
    assert e.value.field == "Month" and "May" not in str(e.value)
    js = tmp_path / "x.json"
    js.write_text('{"category": "violent-crime"}')
    with pytest.raises(PoliceFileRejected, match="JSON list"):
        read_police([js])


# ----------------------------------------------------------------------- comparison core


def test_block_comparison_by_hand(index, lsoas, boroughs):
    c = compare(
        ed_records(),
        read_police([FIX]),
        index,
        JUNE,
        NHS,
        unit="blocks",
        lsoas=lsoas,
        boroughs=boroughs,
    )
    t = by_street(c.table)
    assert set(t.index) == set(POINTS) and len(t) == 4
    # Frith: ED 20 -> 20 (20 +- 2 rounds to 20); police 4 -> *; excess 16, perturbed by the ED
    # cell key (+-2) and rounded: 15 or 20, ranked first
    f = t.loc["Frith Street"]
    assert (f["ed_count"], f["police_suppressed"], f["excess_rank"]) == (20, True, 1)
    assert f["ed_excess"] in (15, 20)
    assert pd.isna(f["police_count"])
    # Dean: ED 3 -> suppressed, so its excess (3 - 9) is never published
    d = t.loc["Dean Street"]
    assert d["ed_suppressed"] and d["excess_suppressed"] and pd.isna(d["ed_excess"])
    assert d["police_count"] == 10
    # Greek: ED 12 is published (perturbed, rounded); its excess 12 - 10 = 2 is small: withheld
    g = t.loc["Greek Street"]
    assert not g["ed_suppressed"] and g["ed_count"] in (10, 15) and pd.isna(g["ed_excess"])
    assert g["police_count"] == 10
    # Old Compton: no ED attendance, police 10. An ED 0 is shown exactly as an ED 1-7 (withheld),
    # and so is the excess (-10 would say "ED 0" to anyone who reads police.uk)
    o = t.loc["Old Compton Street"]
    assert o["ed_suppressed"] and pd.isna(o["ed_count"]) and pd.isna(o["ed_excess"])
    assert o["police_count"] == 10 and pd.isna(o["excess_rank"])
    kv = dict(zip(c.summary["key"], c.summary["value"], strict=True))
    assert kv["police_violent_crimes_read"] == "38"
    assert kv["police_in_filter"] == "36"  # May's 2 are outside the period
    assert kv["police_in_units"] == "35"  # the one without a location is in no unit
    assert kv["ed_in_units"] == "35"
    assert "anonymised" in kv["police_points"]


def test_lsoa_and_hex_comparison(index, lsoas, boroughs):
    pol = read_police([FIX])
    c = compare(ed_records(), pol, index, JUNE, NHS, unit="lsoas", lsoas=lsoas, boroughs=boroughs)
    assert c.table[["lsoa_code", "ed_count", "police_count", "ed_excess"]].values.tolist() == [
        ["E01004763", 35, 35, 0]
    ]
    assert c.table["lsoa_name"].tolist() == ["Westminster 013B"]
    c = compare(ed_records(), pol, index, JUNE, NHS, unit="hexes", lsoas=lsoas, boroughs=boroughs)
    cells = {h3.latlng_to_cell(lat, lon, 9) for (lon, lat), _ in POINTS.values()}
    assert set(c.table["hex_id"]) == cells
    assert c.table.geometry.notna().all()


@pytest.mark.skipif(not SAMPLES, reason="police-uk samples not present")
def test_real_api_points_in_hexes_and_borough_scope(index, lsoas, boroughs):
    pol = read_police(SAMPLES)
    aug = Filters(period_from="2014-08", period_to="2014-08")
    c = compare(
        ed_records("2014-08").iloc[:0],
        pol,
        index,
        aug,
        NHS,
        unit="hexes",
        lsoas=lsoas,
        boroughs=boroughs,
    )
    want = {
        h3.latlng_to_cell(float(la), float(lo), 9)
        for lo, la in zip(pol["lon"], pol["lat"], strict=True)
    }
    assert set(c.table["hex_id"]) == want
    assert c.table["ed_count"].isna().all() and c.table["ed_suppressed"].all()  # ED 0 as 1-7
    kv = dict(zip(c.summary["key"], c.summary["value"], strict=True))
    assert kv["police_in_units"] == str(len(pol))
    # Poplar and Canary Wharf are in Tower Hamlets: none of it in a Westminster comparison
    w = compare(
        ed_records("2014-08").iloc[:0],
        pol,
        index,
        Filters(period_from="2014-08", period_to="2014-08", boroughs=("Westminster",)),
        NHS,
        unit="hexes",
        lsoas=lsoas,
        boroughs=boroughs,
    )
    assert len(w.table) == 0
    assert dict(zip(w.summary["key"], w.summary["value"], strict=True))["police_in_filter"] == "0"


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=30))
def test_excess_never_published_where_ed_is_suppressed(pairs):
    ed = np.array([p[0] for p in pairs], dtype=float)
    pol = np.array([p[1] for p in pairs], dtype=float)
    ed_sup = NHS.is_suppressed(ed)
    x = protect_excess(ed, pol, ed_sup, NHS)
    assert x.loc[ed_sup, "excess"].isna().all()
    pub = x.loc[~x["suppressed"], "excess"]
    assert (pub % 5 == 0).all()
    raw = ed - pol
    small = (np.abs(raw) > 0) & (np.abs(raw) <= 7)
    assert x.loc[small, "suppressed"].all()
    assert np.all(np.abs(pub.to_numpy() - raw[~x["suppressed"].to_numpy()]) <= 2.5)


# ----------------------------------------------------------------------------- outputs, CLI


def _store_ed(url: str) -> None:
    from istvhub.records import make_record_id
    from istvhub.store import open_store

    df = ed_records()
    df["record_id"] = [make_record_id("RJ122", f"cmp-{i}") for i in range(len(df))]
    df["source_row"] = np.arange(1, len(df) + 1)
    df["location_text"] = FREE_TEXT
    df["weapon_text"] = None
    df["age_band"] = "25-34"
    df["sex"] = "male"
    df["confidence"] = 0.9
    df["block_id"] = None
    df["reason"] = "fixture"
    store = open_store(url)
    try:
        store.store_submission(
            department="RJ122",
            period="2024-06",
            file_sha256=hashlib.sha256(b"cmp").hexdigest(),
            source_filename="cmp.csv",
            adapter="test",
            records=df,
        )
    finally:
        store.dispose()


def test_cli_compare_all_formats(db_url, home, sources_dir, tmp_path):
    from istvhub.cli import app
    from istvhub.hotblocks.sample import write_mini_gazetteer

    write_mini_gazetteer(sources_dir, home)
    _store_ed(db_url)
    base = ["compare", "--police", str(FIX), "--from", "2024-06", "--to", "2024-06", "--db", db_url]
    for fmt in ("csv", "html", "gpkg"):
        out = tmp_path / f"cmp.{fmt}"
        res = CliRunner().invoke(app, [*base, "--format", fmt, "--output", str(out)])
        assert res.exit_code == 0, (res.output, res.exception)
        assert FREE_TEXT not in out.read_bytes().decode("utf-8", "ignore")
    t = by_street(pd.read_csv(tmp_path / "cmp.csv"))
    assert t.loc["Frith Street", "ed_excess"] in (15, 20)
    assert pd.isna(t.loc["Old Compton Street", "ed_excess"])  # ED 0: withheld as 1-7 would be
    assert t.loc["Greek Street", "ed_count"] in (10, 15)
    assert (tmp_path / "cmp_summary.csv").is_file()
    page = (tmp_path / "cmp.html").read_text()
    assert "anonymised" in page and "over-interpret" in page and "Frith Street" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert pyogrio.list_layers(tmp_path / "cmp.gpkg")[:, 0].tolist() == ["comparison", "summary"]
    g = pyogrio.read_dataframe(tmp_path / "cmp.gpkg", layer="comparison")
    assert len(g) == 4 and g.crs.to_epsg() == 27700
    bad = CliRunner().invoke(
        app, [*base, "--format", "csv", "--output", str(tmp_path / "x"), "--unit", "wards"]
    )
    assert bad.exit_code != 0


def test_report_marks_suppressed_and_ranks(index, lsoas, boroughs, tmp_path):
    c = compare(ed_records(), read_police([FIX]), index, JUNE, NHS, lsoas=lsoas, boroughs=boroughs)
    page = render_html(c)
    assert page.index("Frith Street") < page.index("Summary")
    assert "<td>*</td>" in page
    files = write_comparison(c, tmp_path / "r.html", "html")
    assert files == [tmp_path / "r.html"]


TYPES = (
    "Violence and sexual offences",
    "Anti-social behaviour",
    "Burglary",
    "Public order",
    "Violent crime",
    "Robbery",
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(TYPES),
            st.integers(0, 5),
            st.text("abcdefghij klmnop'-", min_size=1, max_size=20),
        ),
        min_size=0,
        max_size=40,
    )
)
def test_csv_reader_counts_every_violent_row(rows):
    import tempfile

    hdr = ",".join(
        H
        for H in (
            "Crime ID",
            "Month",
            "Reported by",
            "Falls within",
            "Longitude",
            "Latitude",
            "Location",
            "LSOA code",
            "LSOA name",
            "Crime type",
            "Last outcome category",
            "Context",
        )
    )
    lines = [hdr]
    for ctype, cid, street in rows:
        ident = "" if ctype == "Anti-social behaviour" else f"id{cid}"
        lines.append(f'{ident},2024-06,Met,Met,-0.13,51.51,"On or near {street}",,,{ctype},,')
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "s.csv"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        df = read_police([p, p])  # the same file twice: each row once
    violent = [r for r in rows if r[0] in ("Violence and sexual offences", "Violent crime")]
    assert len(df) == len(violent)
    assert df["crime_key"].is_unique
    want = sorted(
        s.strip() for _, _, s in violent if s.strip() and s.strip().lower() != "no location"
    )
    assert sorted(df["street"].dropna().tolist()) == want


@pytest.fixture(scope="module")
def areas21(sources_dir, boroughs):
    from istvhub.gazetteer import census2021

    l21 = census2021.read_lsoas21(
        [sources_dir / "boundaries/census2021/london_lsoa21_bgc_27700.gpkg"], boroughs
    )
    return {"lsoas21": l21, "msoas21": census2021.msoas_from_lsoas(l21)}


def test_census2021_units_and_police_lsoa_vintage(index, lsoas, boroughs, areas21, sources_dir):
    """The fixture's LSOA E01004763 (Westminster 013B) is unchanged in 2021 (ONS lookup: U), so
    the LSOA 2021 comparison names the same code, its MSOA the ONS file's; police.uk's own codes
    are read as either vintage and agree with our polygons."""
    lookup = pd.read_csv(
        sources_dir / "boundaries/census2021/london_lsoa11_to_lsoa21_lad22_exactfit.csv",
        dtype=str,
    )
    row = lookup[lookup["LSOA11CD"] == "E01004763"].iloc[0]
    assert row["CHGIND"] == "U"
    pol = read_police([FIX])
    kw = {"lsoas": lsoas, "boroughs": boroughs, "areas21": areas21}
    c = compare(ed_records(), pol, index, JUNE, NHS, unit="lsoas21", **kw)
    got = c.table[["lsoa21_code", "ed_count", "police_count"]].values.tolist()
    assert got == [[row["LSOA21CD"], 35, 35]]
    assert c.table["lsoa21_name"].tolist() == ["Westminster 013B"]
    m = compare(ed_records(), pol, index, JUNE, NHS, unit="msoas21", **kw)
    l21 = areas21["lsoas21"].set_index("lsoa21_code")
    assert m.table["msoa21_code"].tolist() == [l21.loc[row["LSOA21CD"], "msoa21_code"]]
    s = c.summary.set_index(["section", "key"])["value"]
    assert s[("police_lsoa", "police_lsoa_vintage")] == "either"
    assert float(s[("police_lsoa", "police_lsoa_agreement_share")]) == 1.0
    located = pol["lsoa_code"].notna() & pd.to_numeric(pol["lon"], errors="coerce").notna()
    assert int(s[("police_lsoa", "police_points_checked")]) == int(located.sum()) >= 30


def test_police_lsoa_vintage_reads_each_kind():
    from istvhub.compare.vintage import file_vintage, vintage_of

    v = vintage_of(
        pd.Series(["E01033207", "E01033864", "E01004763", None, "E01999999"]),
        {"E01033207", "E01004763"},
        {"E01033864", "E01004763"},
    )
    assert v.tolist() == ["2011", "2021", "either", "none", "unknown"]
    assert file_vintage(v) == "mixed"
    assert file_vintage(v[[0, 2]]) == "2011"
    assert file_vintage(v[[2, 3]]) == "either"
