"""Adapters: each built-in layout on a realistic fixture, layout detection, tolerant header
matching on layouts no adapter was written for, and the declarative mapping file."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pytest

from istvhub.ingest.adapters import adapt
from istvhub.ingest.layouts import all_layouts, detect_layout, get_layout, vocabulary
from istvhub.ingest.readers import read_table
from istvhub.records import IstvRecord

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_feeds"


def _adapt(path: Path, data: bytes | None = None, **kw):
    data = data if data is not None else path.read_bytes()
    table = read_table(data, path.name, vocabulary())
    layout, _ = detect_layout(table.headers)
    if "adapter" in kw:
        layout = get_layout(kw.pop("adapter"))
    return layout, adapt(table, layout, file=path.name, **kw)


def _valid_records(df: pd.DataFrame) -> None:
    """Every output row satisfies the canonical pydantic contract."""
    for row in df.drop(columns=["source_row"]).to_dict("records"):
        clean = {
            k: (
                None
                if (v is None or v is pd.NA or (isinstance(v, float) and v != v) or v is pd.NaT)
                else v
            )
            for k, v in row.items()
        }
        if clean["incident_time"] is not None:
            clean["incident_time"] = time.fromisoformat(clean["incident_time"])
        clean["arrival_at"] = pd.Timestamp(clean["arrival_at"]).to_pydatetime()
        IstvRecord(**clean)


def test_istv_mds_fixture():
    layout, a = _adapt(FIX / "RJ122_mds_2025-03.csv")
    assert layout.name == "istv_mds"
    assert (a.department, a.period, a.rows_total) == ("RJ122", "2025-03", 4)
    r = a.records.set_index("source_row")
    assert list(r.index) == [1, 2, 4]  # row 3 has an impossible date; blank rows dropped
    assert r.loc[1, "arrival_at"] == pd.Timestamp("2025-03-02 23:10")
    assert r.loc[1, "incident_time"] == "22:45:00"
    assert pd.isna(r.loc[2, "incident_time"])  # 00:00 = time not known
    assert r.loc[2, "weapon"] == "sharp"  # description given in place of the code, any case
    assert r.loc[2, "location_type"] == "licensed_premises"
    assert (r.loc[4, "weapon"], r.loc[4, "weapon_text"]) == ("other", "bottle")
    assert r.loc[4, "location_type"] == "home"
    assert list(r["sex"]) == ["male", "female", "female"]
    _valid_records(a.records)


def test_ecds_fixture_skips_non_assault():
    layout, a = _adapt(FIX / "RJZ01_ecds_2025-04.csv")
    assert layout.name == "ecds"
    assert (a.rows_total, len(a.records), a.rows_skipped) == (4, 2, 2)
    r = a.records.set_index("source_row")
    assert r.loc[1, "weapon"] == "sharp" and r.loc[1, "location_type"] == "street"
    assert r.loc[1, "age_band"] == "16-17"  # exact age 17 -> band; the age is not kept
    assert r.loc[3, "weapon"] == "firearm" and r.loc[3, "location_type"] == "home"
    assert (r.loc[3, "age_band"], r.loc[3, "sex"]) == ("65+", "unknown")
    assert "age" not in a.records.columns
    _valid_records(a.records)


def test_legacy_pas_fixture_cp1252_semicolon_lowercase_codes():
    path = FIX / "RQXM1_pas_2025-05.csv"
    layout, a = _adapt(path, department="RQXM1")
    assert layout.name == "legacy_pas"
    assert (a.department, a.period, len(a.records)) == ("RQXM1", "2025-05", 2)
    r = a.records.set_index("source_row")
    assert r.loc[1, "location_text"] == "Café Nero, Upper Street – outside"
    assert r.loc[1, "incident_date"] == date(2025, 5, 1)  # dd/mm/yyyy
    assert (r.loc[1, "weapon"], r.loc[1, "location_type"]) == ("sharp", "licensed_premises")
    assert (r.loc[2, "weapon"], r.loc[2, "location_type"]) == ("body_part", "home")
    assert r.loc[2, "age_band"] == "unknown"


def test_ucc_xlsx_title_rows_and_excel_dates():
    layout, a = _adapt(FIX / "R1K12_ucc_2025-06.xlsx", department="R1K12")
    assert layout.name == "ucc_xlsx"
    r = a.records.set_index("source_row")
    assert r.loc[1, "arrival_at"] == pd.Timestamp("2025-06-07 18:40")  # Excel serial date
    assert r.loc[1, "incident_date"] == date(2025, 6, 6)
    assert r.loc[2, "arrival_at"] == pd.Timestamp("2025-06-20 07:05")  # real Excel date
    assert (r.loc[1, "weapon"], r.loc[1, "location_type"]) == ("body_part", "street")
    assert (r.loc[2, "weapon"], r.loc[2, "location_type"]) == ("glass", "transport")
    assert r.loc[2, "weapon_text"] == "Bottle / glass"
    _valid_records(a.records)


def test_unrecognised_location_column_is_a_file_level_warning():
    """A layout whose location column has a name no synonym covers still stores its rows, but
    the report says, once for the file (row 0, not quarantined), which ISTV items it lacks."""
    src = (FIX / "RJ701_unseen_2025-07.csv").read_bytes().decode("cp1252")
    data = src.replace("Location of incident", "Ort des Vorfalls").encode("cp1252")
    _layout, a = _adapt(FIX / "RJ701_unseen_2025-07.csv", data)
    assert len(a.records) > 0 and a.records["location_text"].isna().all()
    file_level = [i for i in a.issues if i.row == 0]
    assert [i.field for i in file_level] == ["location_text"]
    assert not file_level[0].quarantined and "no column recognised" in file_level[0].reason
    _layout, ok = _adapt(FIX / "RJ701_unseen_2025-07.csv")
    assert not [i for i in ok.issues if i.row == 0]


def test_unseen_layout_maps_by_synonyms():
    """Headers no adapter names ("Hospital Code", "Incident Dt", "Weapon Used", ...)."""
    layout, a = _adapt(FIX / "RJ701_unseen_2025-07.csv")
    assert layout.name == "generic"
    assert a.columns["arrival_date"] == "Date of Arrival"
    assert a.columns["arrival_time"] == "Arrival Tm"
    assert a.columns["incident_date"] == "Incident Dt"
    assert a.columns["location_text"] == "Location of incident"
    assert a.columns["source_key"] == "Case Number"
    assert "Triage Category" not in a.columns.values()
    assert (a.department, a.period) == ("RJ701", "2025-07")
    r = a.records.set_index("source_row")
    assert r.loc[1, "arrival_at"] == pd.Timestamp("2025-07-03 16:05")
    assert (r.loc[1, "weapon"], r.loc[1, "location_type"], r.loc[1, "age_band"]) == (
        "sharp",
        "street",
        "25-34",
    )
    assert (r.loc[2, "weapon"], r.loc[2, "location_type"]) == ("body_part", "licensed_premises")
    assert pd.isna(r.loc[2, "incident_time"])
    assert (r.loc[3, "weapon"], r.loc[3, "location_type"]) == ("unknown", "unknown")
    _valid_records(a.records)


def _respell(header: str, style: int) -> str:
    words = header.replace("_", " ").split()
    if style == 0:
        return " ".join(w.lower() for w in words)
    if style == 1:
        return "".join(w.capitalize() for w in words)
    if style == 2:
        return "_".join(w.upper() for w in words)
    return "  " + "-".join(words) + " "


@pytest.mark.parametrize("style", [0, 1, 2, 3])
@pytest.mark.parametrize(
    "fixture, expected",
    [
        ("RJ122_mds_2025-03.csv", "istv_mds"),
        ("RJZ01_ecds_2025-04.csv", "ecds"),
    ],
)
def test_detection_survives_respelled_headers(fixture, expected, style):
    text = (FIX / fixture).read_bytes().decode("utf-8-sig")
    first, rest = text.split("\r\n", 1)
    new_header = ",".join(_respell(h, style) for h in first.split(","))
    data = (new_header + "\r\n" + rest).encode()
    layout, a = _adapt(FIX / fixture, data=data)
    assert layout.name == expected
    _l2, base = _adapt(FIX / fixture)
    pd.testing.assert_frame_equal(a.records, base.records)


def test_every_sample_feed_layout_detected():
    if not (SAMPLES / "manifest.csv").is_file():
        pytest.skip("sample feeds not generated")
    man = pd.read_csv(SAMPLES / "manifest.csv", dtype=str, keep_default_na=False)
    seen = set()
    for r in man.drop_duplicates("adapter").itertuples():
        path = SAMPLES / r.file
        table = read_table(path.read_bytes(), path.name, vocabulary())
        layout, score = detect_layout(table.headers)
        assert layout.name == r.adapter, r.file
        assert score >= 0.5
        seen.add(layout.name)
    assert {"istv_mds", "ecds", "ucc_xlsx", "legacy_pas"} <= seen


def test_mapping_toml_by_path(tmp_path):
    """A new department onboarded with a TOML file alone (no code)."""
    toml = tmp_path / "acme.toml"
    toml.write_text("""
kind = "mapping"
name = "acme"
signature = ["Ref No", "Seen", "Hurt", "Where"]
[columns]
source_key = "Ref No"
arrival_datetime = "Seen"
incident_datetime = "Hurt"
location_text = "Where"
weapon_code = "How"
[constants]
department = "RJ122"
[formats]
date = ["%d.%m.%Y %H.%M"]
[code_maps.weapon_code]
K = "sharp"
F = "body_part"
""")
    csv_text = (
        "Ref No\tSeen\tHurt\tWhere\tHow\n"
        "1\t02.08.2025 01.15\t01.08.2025 23.50\tleicester sq\tK\n"
        "2\t03.08.2025 12.00\t\thome\tF\n"
    )
    path = tmp_path / "acme_aug.tsv"
    layout = get_layout(f"mapping:{toml}")
    table = read_table(csv_text.encode(), path.name, vocabulary(layout))
    assert layout.name == "mapping:acme"
    a = adapt(table, layout, file=path.name)
    r = a.records.set_index("source_row")
    assert (a.department, a.period) == ("RJ122", "2025-08")
    assert r.loc[1, "arrival_at"] == pd.Timestamp("2025-08-02 01:15")
    assert r.loc[1, "incident_time"] == "23:50:00"
    assert list(r["weapon"]) == ["sharp", "body_part"]


def test_builtin_layouts_are_data():
    names = {lay.name for lay in all_layouts()}
    assert {"istv_mds", "ecds", "ucc_xlsx", "legacy_pas"} <= names
    assert any(n.startswith("mapping:") for n in names)


def test_trailing_blank_rows_and_bom_ignored():
    data = (
        b"\xef\xbb\xbf"
        + (FIX / "RJ122_mds_2025-03.csv").read_bytes().lstrip(b"\xef\xbb\xbf")
        + b"\r\n,,,,,,,,,,,,,,\r\n\r\n"
    )
    table = read_table(data, "x.csv", vocabulary())
    assert table.headers[0] == "Site_Code_of_Treatment"
    assert len(table.frame) == 4


def test_semicolon_sniffed_with_commas_in_text():
    text = (
        "AttendanceRef;AttendanceDate;AttendanceTime;AssaultLocDesc;AssaultMethod\n"
        "R1;01/02/2025;10:00;o/s shop, high st, sw8;KN\n"
    )
    table = read_table(text.encode("cp1252"), "p.csv", vocabulary())
    assert table.delimiter == ";"
    assert table.frame.iloc[0]["AssaultLocDesc"] == "o/s shop, high st, sw8"
    assert len(pd.read_csv(io.StringIO(text), sep=";").columns) == len(table.headers)


def test_unseen_pipe_layout_with_datetime_columns():
    """Like the St George's export but renamed: found by synonyms alone (generic layout)."""
    text = (
        "Attendance No|Site|Arrived|Injured|Mech|Place|Location|Age|Sex\n"
        "X1|RJ701|01-Jan-2025 00:26|31-Dec-2024 21:47|KNIFE|STREET|lisle cl|21|M\n"
        "X2|RJ701|02-Jan-2025 14:00||PUNCH/KICK|PUB/CLUB|o/s the swan|33|F\n"
    )
    table = read_table(text.encode(), "export.txt", vocabulary())
    layout, _ = detect_layout(table.headers)
    a = adapt(table, layout, file="export.txt")
    r = a.records.set_index("source_row")
    assert (a.department, a.period) == ("RJ701", "2025-01")
    assert r.loc[1, "arrival_at"] == pd.Timestamp("2025-01-01 00:26")
    assert (r.loc[1, "incident_date"], r.loc[1, "incident_time"]) == (
        date(2024, 12, 31),
        "21:47:00",
    )
    assert list(r["weapon"]) == ["sharp", "body_part"]
    assert list(r["location_type"]) == ["street", "licensed_premises"]
    assert list(r["age_band"]) == ["18-24", "25-34"]


def test_day_month_order_inferred_from_column():
    """A US-ordered column in a day-first layout: the order that parses the column wins."""
    text = (
        "AttendanceRef;AttendanceDate;AttendanceTime;AssaultLocDesc\n"
        "R1;03/14/2025;10:00;high st\nR2;03/02/2025;11:00;market\n"
    )
    table = read_table(text.encode(), "p.csv", vocabulary())
    a = adapt(table, get_layout("legacy_pas"), file="p.csv", department="RQXM1")
    assert list(a.records["arrival_at"].dt.date) == [date(2025, 3, 14), date(2025, 3, 2)]


def test_department_name_in_site_column():
    text = (
        "Site,Arrival Date,Arrival Time,Location\n"
        "St Thomas' Hospital,2025-05-01,10:00,waterloo stn\n"
    )
    table = read_table(text.encode(), "x.csv", vocabulary())
    a = adapt(
        table,
        detect_layout(table.headers)[0],
        file="x.csv",
        aliases={"st thomas hospital": "RJ122"},
    )
    assert a.department == "RJ122"


def test_xlsx_data_on_second_sheet(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Notes: monthly extract for the CSP"])
    ws = wb.create_sheet("Data")
    ws.append(["Ref", "Date seen", "Time seen", "Where did it happen", "What with"])
    ws.append(["U1", datetime(2025, 6, 3), "13:00", "outside tesco", "Knife"])
    p = tmp_path / "two_sheets.xlsx"
    wb.save(p)
    table = read_table(p.read_bytes(), p.name, vocabulary())
    a = adapt(table, detect_layout(table.headers)[0], file=p.name, department="R1K12")
    assert a.records["weapon"].tolist() == ["sharp"]


@pytest.mark.parametrize("bad_first", [True, False])
def test_row_with_unquoted_separator_is_quarantined_not_fatal(bad_first):
    head = "Site_Code_of_Treatment,Arrival_Date,Arrival_Time,Assault_Location_Description\n"
    bad = "RJ122,2025-03-01,10:00,o/s shop, high st\n"
    good = "RJ122,2025-03-02,11:00,market\n"
    text = head + (bad + good if bad_first else good + bad)
    table = read_table(text.encode(), "x.csv", vocabulary())
    a = adapt(table, get_layout("istv_mds"), file="x.csv")
    bad_row = 1 if bad_first else 2
    assert [(i.row, i.field) for i in a.issues if i.row] == [(bad_row, "row")]
    assert a.rows_total == 2 and a.records["location_text"].tolist() == ["market"]


def test_location_type_from_description():
    text = (
        "EC_Ident,Site_Code_of_Treatment,Der_EC_Arrival_Date_Time,EC_Injury_Intent_SNOMED_CT,"
        "EC_Place_Of_Injury_SNOMED_CT,Assault_Location_Description\n"
        "1,RJZ01,2025-04-01 10:00:00,52684005,74964007,bus stop o/s kfc\n"
        "2,RJZ01,2025-04-01 11:00:00,52684005,74964007,in custody\n"
        "3,RJZ01,2025-04-01 12:00:00,52684005,,pt's flat\n"
        "4,RJZ01,2025-04-01 13:00:00,52684005,261665006,home\n"
    )
    table = read_table(text.encode(), "e.csv", vocabulary())
    a = adapt(table, get_layout("ecds"), file="e.csv")
    # generic "other" refined by the text; blank code derived; explicit "unknown" kept
    assert a.records["location_type"].tolist() == ["transport", "other", "home", "unknown"]


def test_unlisted_intent_code_kept_when_assault_location_recorded():
    text = (
        "EC_Ident,Site_Code_of_Treatment,Der_EC_Arrival_Date_Time,EC_Injury_Intent_SNOMED_CT,"
        "Assault_Location_Description\n"
        "1,RJZ01,2025-04-01 10:00:00,999999999,o/s kfc brixton rd\n"
        "2,RJZ01,2025-04-01 11:00:00,999999999,\n"
        "3,RJZ01,2025-04-01 12:00:00,418019003,\n"
    )
    table = read_table(text.encode(), "e.csv", vocabulary())
    a = adapt(table, get_layout("ecds"), file="e.csv")
    assert a.records["source_row"].tolist() == [1] and a.rows_skipped == 2
    assert [(i.row, i.quarantined) for i in a.issues if i.row] == [(1, False)]
