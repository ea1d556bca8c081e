"""The sample feeds and the department registry: reproducible, built from real data, and carrying
the faults the hub must meet (LAYOUTS.md, sample_feeds/README.md)."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import re
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pyproj import Transformer

REPO = Path(__file__).resolve().parents[1]
FEEDS = REPO / "sample_feeds"
REGISTRY = REPO / "src" / "istvhub" / "data" / "departments.csv"


def _load_generator():
    spec = importlib.util.spec_from_file_location("sample_feeds_generate", FEEDS / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()


def _mod11_ok(num: str) -> bool:
    """Independent NHS number check (NHS Data Dictionary: weights 10..2, 11 - remainder)."""
    if not re.fullmatch(r"\d{10}", num):
        return False
    total = sum(int(c) * w for c, w in zip(num[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(num[9])


@pytest.fixture(scope="module")
def manifest() -> pd.DataFrame:
    return pd.read_csv(FEEDS / "manifest.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(FEEDS / "ground_truth.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, sources_dir) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    gen.generate(sources_dir, out)
    return out


@pytest.fixture(scope="module")
def codepoint(sources_dir) -> set[str]:
    pcs: set[str] = set()
    for f in sorted((sources_dir / "postcodes/codepoint-open/Data/CSV").glob("*.csv")):
        col = pd.read_csv(f, header=None, usecols=[0], dtype=str)[0]
        pcs.update(col.str.replace(" ", "", regex=False).str.upper())
    return pcs


def _xlsx_values(path: Path) -> list[tuple]:
    ws = load_workbook(path, read_only=True).worksheets[0]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


# --- reproducibility ---------------------------------------------------------------------------
def test_regeneration_with_fixed_seed_is_identical(regenerated: Path, manifest: pd.DataFrame):
    committed = sorted(
        p.relative_to(FEEDS).as_posix()
        for p in FEEDS.rglob("*")
        if p.is_file() and p.suffix in (".csv", ".txt", ".xlsx")
    )
    fresh = sorted(
        p.relative_to(regenerated).as_posix() for p in regenerated.rglob("*") if p.is_file()
    )
    assert committed == fresh
    assert set(manifest["file"]) <= set(fresh)
    for rel in committed:
        a, b = FEEDS / rel, regenerated / rel
        if rel.endswith(".xlsx"):
            assert _xlsx_values(a) == _xlsx_values(b), rel
        else:
            assert (
                hashlib.sha256(a.read_bytes()).hexdigest()
                == hashlib.sha256(b.read_bytes()).hexdigest()
            ), rel


def test_committed_output_is_small():
    total = sum(p.stat().st_size for p in FEEDS.rglob("*") if p.is_file())
    assert total < 5_000_000


# --- real data behind the text -----------------------------------------------------------------
def test_every_postcode_text_is_a_real_codepoint_postcode(truth: pd.DataFrame, codepoint):
    rows = truth[
        (truth["category"] == "postcode")
        | ((truth["category"] == "outside_area") & (truth["source_name"] != ""))
    ]
    assert len(rows) > 300
    for text, name in zip(rows["text"], rows["source_name"], strict=True):
        compact = name.replace(" ", "").upper()
        assert compact in codepoint
        assert compact in text.replace(" ", "").upper()


def test_venue_names_exist_in_the_venue_file(truth: pd.DataFrame, sources_dir):
    import json

    vj = json.loads((sources_dir / "venues/london_venues.geojson").read_text(encoding="utf-8"))
    names = {f["properties"]["name"].strip() for f in vj["features"] if f["properties"].get("name")}
    venues = truth[truth["category"] == "venue"]
    assert len(venues) > 800
    assert set(venues["source_name"]) <= names


def test_station_and_street_names_come_from_the_sources(truth: pd.DataFrame, sources_dir):
    stations = set(pd.read_csv(sources_dir / "transport/london_stations.csv", sep=";")["name"])
    stops = set(pd.read_csv(sources_dir / "transport/tfl_bus_stops.csv", dtype=str)["Stop_Name"])
    st_rows = truth[truth["category"] == "station"]
    assert set(st_rows["source_name"]) <= stations | stops
    streets = set(
        pd.read_csv(
            sources_dir / "streets/postcode-streets/postcode_streets_london_areas.csv", dtype=str
        )["street"]
        .dropna()
        .str.upper()
        .str.strip()
    )
    for name in truth.loc[truth["category"] == "street", "source_name"]:
        assert name in streets
    for pair in truth.loc[truth["category"] == "junction", "source_name"]:
        a, b = pair.split(" / ")
        assert a in streets and b in streets and a != b


def test_truth_positions_and_tolerances(truth: pd.DataFrame):
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    located = truth[truth["lat"] != ""]
    e, n = to_bng.transform(
        located["lon"].astype(float).to_numpy(), located["lat"].astype(float).to_numpy()
    )
    assert np.abs(e - located["easting"].astype(float)).max() < 2
    assert np.abs(n - located["northing"].astype(float)).max() < 2
    inner = located[located["category"] != "outside_area"]
    # Greater London bounding box (EPSG:27700)
    assert inner["easting"].astype(float).between(503000, 562000).all()
    assert inner["northing"].astype(float).between(155000, 201000).all()
    tol = {
        "postcode": {"100"},
        "venue": {"150"},
        "station": {"150"},
        "junction": {"150"},
        "area": {"1500"},
    }
    for cat, allowed in tol.items():
        assert set(truth.loc[truth["category"] == cat, "tol_m"]) == allowed, cat
    street_tol = truth.loc[truth["category"] == "street", "tol_m"].astype(int)
    assert (street_tol >= 500).all() and (street_tol <= 1200).all()
    unlocated = truth[truth["category"].isin(["home", "unknown"])]
    assert (unlocated["lat"] == "").all() and (unlocated["tol_m"] == "").all()


def test_located_texts_lie_near_the_receiving_department(truth: pd.DataFrame):
    reg = pd.read_csv(REGISTRY, dtype=str).set_index("ods_code")
    located = truth[~truth["category"].isin(["home", "unknown", "outside_area"])]
    d = np.hypot(
        located["easting"].astype(float).to_numpy()
        - reg.loc[located["department"], "easting"].astype(float).to_numpy(),
        located["northing"].astype(float).to_numpy()
        - reg.loc[located["department"], "northing"].astype(float).to_numpy(),
    )
    assert np.median(d) < 4000
    assert d.max() <= 9100


def test_category_mix_and_text_styles(truth: pd.DataFrame):
    share = truth["category"].isin(["home", "unknown"]).mean()
    assert 0.28 <= share <= 0.40
    cats = set(truth["category"])
    assert cats == {
        "home",
        "unknown",
        "outside_area",
        "postcode",
        "venue",
        "station",
        "street",
        "junction",
        "area",
    }
    text = truth["text"]
    for token in (
        r"\bo/s\b",
        r"\bopp\b",
        r"\bnr\b",
        r"\bjct\b",
        r"\bj/w\b",
        r"\brd\b",
        r"\bst\b",
        r"\bstn\b",
        r"\bln\b",
        "corner of",
        " / ",
        r"\bu/k\b",
        r"\bnfa\b",
        "- -",
    ):
        assert text.str.contains(token, case=False, regex=True).any(), token
    assert text.str.contains(r"[A-Z]{4,}").any() and text.str.contains(r"^[a-z]").any()
    typo_share = (truth["typo"] == "1").mean()
    assert 0.10 <= typo_share <= 0.20
    # most typos hit the place name itself (some hit "outside", "station"...)
    typod = truth[(truth["typo"] == "1") & truth["category"].isin(["station", "area"])]
    assert len(typod) > 50
    intact = [
        n.lower() in t.lower() for n, t in zip(typod["source_name"], typod["text"], strict=True)
    ]
    assert np.mean(intact) < 0.5
    # consistency of codes with the text
    assert (truth.loc[truth["category"] == "home", "location_type"] == "home").all()
    st_rows = truth[truth["category"] == "station"]
    assert (st_rows["location_type"] == "transport").all()


def test_no_personal_data_in_ground_truth(truth: pd.DataFrame):
    bad_cols = {"nhs_number", "patient_name", "date_of_birth", "patient_postcode", "dob", "name"}
    assert not bad_cols & {c.lower() for c in truth.columns}
    for t in truth["text"]:
        for tok in re.findall(r"\d[\d ]{8,}\d", t):
            assert not _mod11_ok(tok.replace(" ", ""))


# --- layouts and faults ------------------------------------------------------------------------
def test_all_layouts_present(manifest: pd.DataFrame):
    adapters = set(manifest["adapter"])
    assert {"istv_mds", "ecds", "ucc_xlsx", "legacy_pas"} <= adapters
    assert any(a.startswith("mapping:") for a in adapters)
    per_dept = manifest.groupby("department")["period"].nunique()
    assert len(per_dept) >= 6 and (per_dept >= 9).all() and (per_dept == 12).sum() >= 4
    counts = (
        pd.read_csv(FEEDS / "ground_truth.csv", dtype=str, keep_default_na=False)
        .groupby(["file"])
        .size()
    )
    assert counts.between(55, 210).all()


def test_layout_details(manifest: pd.DataFrame):
    rows = manifest.set_index("file")
    mds = FEEDS / "RJ122" / "RJ122_2025-01.csv"
    assert mds.read_bytes().startswith(b"\xef\xbb\xbf")
    pas = (FEEDS / "RQXM1" / "RQXM1_2025-03.csv").read_bytes()
    text = pas.decode("cp1252")
    assert text.splitlines()[0].startswith("AttendanceRef;AttendanceDate;")
    assert text.rstrip("\r\n").endswith(";;;;;;;;;;")
    assert re.search(r";\d\d/\d\d/2025;", text)
    assert ";bp;" in text or ";kn;" in text  # lower-case codes this month
    values = _xlsx_values(FEEDS / "R1K12" / "R1K12_2025-04.xlsx")
    assert str(values[0][0]).startswith("Assault attendances - ")
    assert all(v is None for v in values[1])
    assert values[2][:3] == ("Ref", "Date seen", "Time seen")
    assert isinstance(values[3][1], int)  # even month: Excel serial dates
    odd = _xlsx_values(FEEDS / "R1K12" / "R1K12_2025-05.xlsx")
    assert isinstance(odd[3][1], datetime)
    ecds = pd.read_csv(FEEDS / "RJZ01" / "RJZ01_2025-01.csv", dtype=str, keep_default_na=False)
    intents = ecds["EC_Injury_Intent_SNOMED_CT"].value_counts()
    assert intents.index[0] == "52684005" and len(intents) == 3
    assert (
        ecds.loc[ecds["EC_Injury_Intent_SNOMED_CT"] != "52684005", "Assault_Location_Description"]
        == ""
    ).all()
    mapping = (FEEDS / "RJ701" / "RJ701_2025-01.txt").read_text(encoding="utf-8")
    assert mapping.splitlines()[0] == (
        "AttendNo|SiteODS|ArrivedAt|InjuredAt|Mechanism|"
        "PlaceCategory|IncidentLocation|AgeYrs|Gender"
    )
    assert rows.loc["RJ701/RJ701_2025-01.txt", "adapter"] == "mapping:rj701_symphony"


def test_pii_file_has_identifying_columns_with_valid_fake_nhs_numbers(manifest: pd.DataFrame):
    pii = manifest[manifest["file"].str.contains("_pii")]
    assert len(pii) == 1 and "PII" in pii["note"].iloc[0]
    df = pd.read_csv(FEEDS / pii["file"].iloc[0], dtype=str)
    assert {"NHS_Number", "Patient_Name", "Date_Of_Birth", "Patient_Postcode"} <= set(df.columns)
    assert df["NHS_Number"].map(_mod11_ok).all()
    assert df["NHS_Number"].str.startswith("999").all()  # test range, never issued
    clean = manifest[
        (manifest["department"] == pii["department"].iloc[0])
        & (manifest["period"] == pii["period"].iloc[0])
        & ~manifest["file"].str.contains("_pii")
    ]
    assert len(clean) == 1 and clean["received_at"].iloc[0] > pii["received_at"].iloc[0]


def test_bad_dates_file(manifest: pd.DataFrame, truth: pd.DataFrame):
    f = manifest[manifest["note"].str.startswith("bad dates")]["file"].iloc[0]
    df = pd.read_csv(FEEDS / f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    parsed = pd.to_datetime(df["Arrival_Date"], format="%Y-%m-%d", errors="coerce")
    bad = df.loc[parsed.isna(), "Attendance_Identifier"]
    marked = truth[(truth["file"] == f) & (truth["fault"] == "bad_date")]["source_key"]
    assert len(bad) == 6 and set(bad) == set(marked)


def test_reupload_late_and_missing_months(manifest: pd.DataFrame, truth: pd.DataFrame):
    v2 = manifest[manifest["file"].str.contains("_v2")]
    assert len(v2) == 1
    dept, period = v2["department"].iloc[0], v2["period"].iloc[0]
    v1 = manifest[
        (manifest["department"] == dept)
        & (manifest["period"] == period)
        & ~manifest["file"].str.contains("_v2")
    ]
    assert v2["received_at"].iloc[0] > v1["received_at"].iloc[0]
    k1 = set(truth.loc[truth["file"] == v1["file"].iloc[0], "source_key"])
    k2 = set(truth.loc[truth["file"] == v2["file"].iloc[0], "source_key"])
    assert k1 - k2 and k2 - k1 and len(k1 & k2) > 50

    rec = pd.to_datetime(manifest["received_at"])
    per = pd.PeriodIndex(manifest["period"], freq="M")
    due = (per + 1).to_timestamp() + pd.Timedelta(days=20)
    late = manifest[rec.to_numpy() > due.to_numpy()]
    assert list(late["note"].str[:4]) == ["late"]
    ontime = manifest[(rec.dt.day <= 10).to_numpy()]
    assert len(ontime) >= 0.9 * len(manifest)

    reg = pd.read_csv(REGISTRY, dtype=str, keep_default_na=False).set_index("ods_code")
    missing = []
    for d, g in manifest.groupby("department"):
        start = reg.loc[d, "sharing_since"] or "2025-01"
        expected = {p for p in gen.PERIODS if p >= start}
        missing += [(d, p) for p in sorted(expected - set(g["period"]))]
    assert missing == [gen.MISSING]


# --- registry ------------------------------------------------------------------------------------
def test_registry(sources_dir, manifest: pd.DataFrame):
    import geopandas as gpd
    from shapely.geometry import Point

    reg = pd.read_csv(REGISTRY, dtype=str, keep_default_na=False)
    assert list(reg.columns) == [
        "ods_code",
        "name",
        "dept_type",
        "borough",
        "lat",
        "lon",
        "easting",
        "northing",
        "sharing_since",
        "source",
    ]
    assert reg["ods_code"].is_unique
    assert 25 <= (reg["dept_type"] == "01").sum() <= 30
    assert set(reg["dept_type"]) <= {"01", "02", "03", "04"} and (reg["dept_type"] != "01").any()
    boroughs = gpd.read_file(sources_dir / "boundaries/london_boroughs.gpkg").set_index("name")
    for r in reg.itertuples():
        assert boroughs.loc[r.borough, "geometry"].contains(
            Point(float(r.easting), float(r.northing))
        )
    assert set(manifest["department"]) <= set(reg["ods_code"])
    joiners = reg[reg["sharing_since"] != ""]
    assert len(joiners) == 1
    j = joiners.iloc[0]
    first = manifest.loc[manifest["department"] == j["ods_code"], "period"].min()
    assert first == j["sharing_since"] > "2025-01"


# --- properties of the generator's helpers -------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_fake_nhs_numbers_pass_mod11(seed: int):
    num = gen.fake_nhs_number(np.random.default_rng(seed))
    assert _mod11_ok(num) and num.startswith("999")
    assert gen.nhs_checksum_ok(num)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.from_regex(r"[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}", fullmatch=True),
)
def test_postcode_rendering_keeps_the_postcode(seed: int, pc: str):
    r = gen.Renderer(np.random.default_rng(seed))
    out = r.postcode(pc)
    assert out.replace(" ", "").upper() == pc.replace(" ", "")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.lists(st.from_regex(r"[a-z]{2,9}", fullmatch=True), min_size=1, max_size=5),
)
def test_typo_changes_at_most_one_word(seed: int, words: list[str]):
    r = gen.Renderer(np.random.default_rng(seed))
    text = " ".join(words)
    out = r.typo(text)
    a, b = text.split(" "), out.split(" ")
    assert len(a) == len(b)
    changed = [i for i in range(len(a)) if a[i] != b[i]]
    assert len(changed) <= 1
    for i in changed:
        assert abs(len(a[i]) - len(b[i])) <= 1 and len(a[i]) >= 5


def test_manifest_is_well_formed(manifest: pd.DataFrame):
    assert list(manifest.columns) == [
        "file",
        "department",
        "period",
        "adapter",
        "received_at",
        "note",
    ]
    for f, d, p in zip(manifest["file"], manifest["department"], manifest["period"], strict=True):
        assert re.fullmatch(rf"{d}/{d}_{p}(_v2|_pii)?\.(csv|xlsx|txt)", f)
        assert (FEEDS / f).is_file()
    buf = io.StringIO((FEEDS / "geocode_dev.csv").read_text(encoding="utf-8"))
    dev = list(csv.DictReader(buf))
    assert len({r["text"] for r in dev}) == len(dev)
    assert {r["expect"] for r in dev} == {"home", "unknown", "outside_area", "located"}


def test_registry_is_derived_reproducibly_from_the_sources(sources_dir, tmp_path):
    spec = importlib.util.spec_from_file_location(
        "build_registry", REPO / "scripts" / "build_registry.py"
    )
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    out = tmp_path / "departments.csv"
    assert mod.main(["--sources", str(sources_dir), "--out", str(out)]) == 0
    assert out.read_bytes() == REGISTRY.read_bytes()
    reg = pd.read_csv(out, dtype=str, keep_default_na=False)
    # Royal London is absent from the NHS file: its position comes from the CQC file
    assert "CQC" in reg.set_index("ods_code").loc["R1H12", "source"]
