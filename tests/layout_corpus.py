"""Extracts in layouts no adapter names, written the way other ED systems would send them, from
the canonical records of one sample month (issue 17): each maker returns the file name, its
bytes and the columns recognition must find (field -> header). Synthetic data only."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub.ingest.adapters import adapt
from istvhub.ingest.layouts import detect_layout, vocabulary
from istvhub.ingest.readers import read_table

SAMPLES = Path(__file__).resolve().parents[1] / "sample_feeds"
BASE_FILE = SAMPLES / "RJ122" / "RJ122_2025-03.csv"

LOC_FREE = {
    "street": "Street/Road",
    "licensed_premises": "Licensed premises",
    "home": "Private residence",
    "workplace": "Workplace",
    "school": "School/College",
    "transport": "Public transport",
    "other": "Other public place",
    "unknown": "Not known",
}
WPN_FREE = {
    "body_part": "Fist/Feet",
    "sharp": "Knife/Blade",
    "blunt": "Blunt object",
    "glass": "Bottle/Glass",
    "firearm": "Firearm",
    "other": "Other",
    "unknown": "Not known",
}
SNOMED_MECH = {
    "body_part": "1055294009 |Blunt impact|",
    "blunt": "1055294009 |Blunt impact|",
    "sharp": "425322008 |Stab wound|",
    "glass": "1162998008 |Sharp impact|",
    "firearm": "283545005 |Gunshot wound|",
    "other": "74964007 |Other|",
    "unknown": "261665006 |Unknown|",
}
SNOMED_PLACE = {
    "street": "257710009 |Street|",
    "home": "264362003 |Home|",
    "licensed_premises": "257674002 |Public building|",
    "workplace": "285141008 |Work environment|",
    "school": "257698009 |School|",
    "transport": "74964007 |Other|",
    "other": "74964007 |Other|",
    "unknown": "261665006 |Unknown|",
}
SEX_MF = {"male": "M", "female": "F", "other": "U", "unknown": "U"}
SEX_WORDS = {"male": "Male", "female": "Female", "other": "Unknown", "unknown": "Unknown"}
SEX_NUM = {"male": "1", "female": "2", "other": "9", "unknown": "9"}
#: other cut-points (10-year bands); each lies inside one hub band only for some bands
AGE_OTHER = {
    "0-15": "0-15",
    "16-17": "16-17",
    "18-24": "18-24",
    "25-34": "25-34",
    "35-44": "35-44",
    "45-54": "45-54",
    "55-64": "55-64",
    "65+": "65 and over",
    "unknown": "",
}


def base() -> pd.DataFrame:
    """The canonical records of RJ122 2025-03 (the istv_mds sample), in file order."""
    data = BASE_FILE.read_bytes()
    t = read_table(data, BASE_FILE.name, vocabulary())
    a = adapt(t, detect_layout(t.headers)[0], file=BASE_FILE.name)
    return a.records.sort_values("source_row").reset_index(drop=True)


def _years(bands: pd.Series, seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    lo = {"0-15": 5, "16-17": 16, "18-24": 18, "25-34": 25, "35-44": 35, "45-54": 45}
    lo |= {"55-64": 55, "65+": 65}
    out = [
        "" if b not in lo else str(lo[b] + int(rng.integers(0, 2 if b == "16-17" else 7)))
        for b in bands
    ]
    return pd.Series(out, index=bands.index)


def _d(s: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(s).dt.strftime(fmt).fillna("")


def _csv(df: pd.DataFrame, title: list[str] | None = None, sep: str = ",") -> bytes:
    buf = io.StringIO()
    for line in title or []:
        buf.write(line + "\n")
    df.to_csv(buf, index=False, sep=sep)
    return buf.getvalue().encode("utf-8")


def _xlsx(rows: list[list[object]], merges: list[str] | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for m in merges or []:
        ws.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _text(b: pd.DataFrame) -> pd.Series:
    return b["location_text"].fillna("")


def _inc(b: pd.DataFrame, fmt: str = "%d/%m/%Y") -> pd.Series:
    return pd.to_datetime(b["incident_date"]).dt.strftime(fmt).fillna("")


# --------------------------------------------------------------------------- held-out style


def heldout_title_rows_csv(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    """Like the issue's first extract: two title rows, "Place of Incident (Type)" and
    "(Description)", "Patient Age Group", "Weapon Used"."""
    df = pd.DataFrame(
        {
            "Record No": [f"N{i:05d}" for i in range(len(b))],
            "Date of Attendance": _d(b["arrival_at"], "%d/%m/%Y"),
            "Time of Attendance": _d(b["arrival_at"], "%H:%M"),
            "Date of Incident": _inc(b),
            "Place of Incident (Type)": b["location_type"].map(LOC_FREE),
            "Place of Incident (Description)": _text(b),
            "Weapon Used": b["weapon"].map(WPN_FREE),
            "Patient Age Group": b["age_band"].replace("unknown", "Not known"),
            "Patient Sex": b["sex"].map(SEX_WORDS),
        }
    )
    title = ["Violence-related attendances,,,", "Extract run 2025-04-02 for St Thomas' Hospital,,"]
    cols = {
        "location_type_code": "Place of Incident (Type)",
        "location_text": "Place of Incident (Description)",
        "age_band": "Patient Age Group",
        "weapon_code": "Weapon Used",
        "sex": "Patient Sex",
        "arrival_date": "Date of Attendance",
        "incident_date": "Date of Incident",
    }
    return "RJ122_violence_2025-03.csv", _csv(df, title), cols


def heldout_xlsx(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    """Like the issue's second extract: XLSX, title rows, "Arrival DateTime", "Age (years)",
    "Sex (M/F)", "Injury Location Type", "Incident Location"."""
    header = [
        "Ref",
        "Arrival DateTime",
        "Incident Date",
        "Age (years)",
        "Sex (M/F)",
        "Injury Location Type",
        "Incident Location",
        "Weapon",
    ]
    years = _years(b["age_band"])
    rows: list[list[object]] = [["ED assault attendances"], ["Month: March 2025"], [], header]
    for i, r in b.iterrows():
        rows.append(
            [
                f"X{i}",
                pd.Timestamp(r["arrival_at"]).to_pydatetime(),
                pd.Timestamp(r["incident_date"]).to_pydatetime()
                if pd.notna(r["incident_date"])
                else None,
                int(years[i]) if years[i] else None,
                SEX_MF[r["sex"]],
                LOC_FREE[r["location_type"]],
                r["location_text"] if pd.notna(r["location_text"]) else None,
                WPN_FREE[r["weapon"]].replace("Fist/Feet", "Kicked" if i % 2 else "Fist/Feet"),
            ]
        )
    cols = {
        "arrival_datetime": "Arrival DateTime",
        "incident_date": "Incident Date",
        "age": "Age (years)",
        "sex": "Sex (M/F)",
        "location_type_code": "Injury Location Type",
        "location_text": "Incident Location",
        "weapon_code": "Weapon",
    }
    return "RJ122_ed_2025-03.xlsx", _xlsx(rows), cols


# --------------------------------------------------------------------------- the corpus


def merged_header_xlsx(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    """Title row, then group labels in merged cells over a second header row."""
    top = ["Arrival", None, "Incident", None, None, "Patient", None, "Weapon"]
    sub = ["Date", "Time", "Date", "Time", "Location", "Age", "Gender", "Type"]
    rows: list[list[object]] = [["Assaults seen in ED - March 2025"], top, sub]
    years = _years(b["age_band"], 5)
    for i, r in b.iterrows():
        rows.append(
            [
                pd.Timestamp(r["arrival_at"]).to_pydatetime().date(),
                pd.Timestamp(r["arrival_at"]).strftime("%H:%M"),
                pd.Timestamp(r["incident_date"]).to_pydatetime().date()
                if pd.notna(r["incident_date"])
                else None,
                r["incident_time"][:5] if pd.notna(r["incident_time"]) else None,
                r["location_text"] if pd.notna(r["location_text"]) else None,
                int(years[i]) if years[i] else None,
                SEX_WORDS[r["sex"]],
                WPN_FREE[r["weapon"]],
            ]
        )
    cols = {
        "arrival_date": "Arrival Date",
        "arrival_time": "Arrival Time",
        "incident_date": "Incident Date",
        "incident_time": "Incident Time",
        "location_text": "Incident Location",
        "age": "Patient Age",
        "sex": "Patient Gender",
        "weapon_code": "Weapon Type",
    }
    return "RJ122_merged_2025-03.xlsx", _xlsx(rows, ["A2:B2", "C2:E2", "F2:G2"]), cols


def welsh_bilingual_csv(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    df = pd.DataFrame(
        {
            "Cyfeirnod / Reference": [f"W{i}" for i in range(len(b))],
            "Dyddiad cyrraedd / Arrival date": _d(b["arrival_at"], "%Y-%m-%d"),
            "Amser cyrraedd / Arrival time": _d(b["arrival_at"], "%H:%M"),
            "Dyddiad digwyddiad / Incident date": _inc(b, "%Y-%m-%d"),
            "Lleoliad / Location": _text(b),
            "Math o leoliad / Location type": b["location_type"].map(LOC_FREE),
            "Arf / Weapon": b["weapon"].map(WPN_FREE),
            "Oedran / Age": _years(b["age_band"], 7),
            "Rhyw / Sex": b["sex"].map(SEX_MF),
        }
    )
    cols = {
        "arrival_date": "Dyddiad cyrraedd / Arrival date",
        "arrival_time": "Amser cyrraedd / Arrival time",
        "incident_date": "Dyddiad digwyddiad / Incident date",
        "location_text": "Lleoliad / Location",
        "location_type_code": "Math o leoliad / Location type",
        "weapon_code": "Arf / Weapon",
        "age": "Oedran / Age",
        "sex": "Rhyw / Sex",
    }
    return "RJ122_cymraeg_2025-03.csv", _csv(df), cols


def weapon_flags_csv(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    flags = {
        "Weapon - Knife (Y/N)": "sharp",
        "Weapon - Gun (Y/N)": "firearm",
        "Weapon - Bottle or Glass (Y/N)": "glass",
        "Weapon - Blunt object (Y/N)": "blunt",
        "Weapon - Fists/Feet (Y/N)": "body_part",
    }
    df = pd.DataFrame(
        {
            "Attendance ID": [f"F{i}" for i in range(len(b))],
            "Arrival Date": _d(b["arrival_at"], "%d/%m/%Y %H:%M"),
            "Incident Date": _inc(b),
            "Location": _text(b),
            "Location Type": b["location_type"].map(LOC_FREE),
            "Age Band": b["age_band"],
            "Sex": b["sex"].map(SEX_NUM),
        }
    )
    for col, w in flags.items():
        df[col] = np.where(b["weapon"] == w, "Y", "N")
    cols = {
        "arrival_date": "Arrival Date",
        "location_text": "Location",
        "location_type_code": "Location Type",
        "age_band": "Age Band",
        "sex": "Sex",
    }
    return "RJ122_flags_2025-03.csv", _csv(df), cols | {f"flag:{c}": w for c, w in flags.items()}


def snomed_display_csv(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    df = pd.DataFrame(
        {
            "Encounter ID": [f"E{i}" for i in range(len(b))],
            "Arrival Date Time": _d(b["arrival_at"], "%Y-%m-%d %H:%M:%S"),
            "Injury Date": _inc(b, "%Y-%m-%d"),
            "Injury Intent": "52684005 |Assault|",
            "Injury Mechanism": b["weapon"].map(SNOMED_MECH),
            "Place of Injury": b["location_type"].map(SNOMED_PLACE),
            "Where it happened (free text)": _text(b),
            "Age": _years(b["age_band"], 9),
            "Gender": b["sex"].map(SEX_NUM),
        }
    )
    cols = {
        "arrival_datetime": "Arrival Date Time",
        "incident_date": "Injury Date",
        "intent": "Injury Intent",
        "mechanism": "Injury Mechanism",
        "place": "Place of Injury",
        "location_text": "Where it happened (free text)",
        "age": "Age",
        "sex": "Gender",
    }
    return "RJ122_snomed_2025-03.csv", _csv(df), cols


def excel_serial_bands_csv(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    """Dates as Excel serial numbers; age bands with other spellings ("65 and over")."""
    serial = (pd.to_datetime(b["arrival_at"]) - pd.Timestamp("1899-12-30")).dt.days
    inc = (pd.to_datetime(b["incident_date"]) - pd.Timestamp("1899-12-30")).dt.days
    df = pd.DataFrame(
        {
            "Visit Date": serial.astype(str),
            "Visit Time": _d(b["arrival_at"], "%H%M"),
            "Date Injured": inc.astype("Int64").astype(str).replace("<NA>", ""),
            "Scene": _text(b),
            "Scene Category": b["location_type"].map(LOC_FREE),
            "Method": b["weapon"].map(WPN_FREE),
            "Age Bracket": b["age_band"].map(AGE_OTHER),
            "Gender": b["sex"].map(SEX_WORDS),
        }
    )
    cols = {
        "arrival_date": "Visit Date",
        "arrival_time": "Visit Time",
        "incident_date": "Date Injured",
        "location_text": "Scene",
        "location_type_code": "Scene Category",
        "weapon_code": "Method",
        "age_band": "Age Bracket",
        "sex": "Gender",
    }
    return "RJ122_serial_2025-03.csv", _csv(df, sep=";"), cols


def unfamiliar_words_csv(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    """Header words no synonym lists; the values say what each column is."""
    df = pd.DataFrame(
        {
            "Seen": _d(b["arrival_at"], "%d/%m/%Y %H:%M"),
            "Injury Date": _inc(b),
            "Info 1": _text(b),
            "Info 2": b["location_type"].map(LOC_FREE),
            "Info 3": b["weapon"].map(WPN_FREE),
            "Info 4": _years(b["age_band"], 11),
            "Info 5": b["sex"].map(SEX_WORDS),
        }
    )
    cols = {
        "location_text": "Info 1",
        "location_type_code": "Info 2",
        "weapon_code": "Info 3",
        "age": "Info 4",
        "sex": "Info 5",
        "incident_date": "Injury Date",
    }
    return "RJ122_info_2025-03.csv", _csv(df, sep="|"), cols


def iso_snake_case_csv(b: pd.DataFrame) -> tuple[str, bytes, dict[str, str]]:
    df = pd.DataFrame(
        {
            "presentation_datetime": _d(b["arrival_at"], "%Y-%m-%dT%H:%M:%S"),
            "injury_datetime": pd.to_datetime(b["incident_date"])
            .dt.strftime("%Y-%m-%dT00:00:00")
            .fillna(""),
            "injury_place_type": b["location_type"].map(LOC_FREE),
            "injury_place_text": _text(b),
            "injury_method": b["weapon"].map(WPN_FREE),
            "pt_age_group": b["age_band"],
            "pt_sex": b["sex"].map(SEX_MF),
        }
    )
    cols = {
        "arrival_datetime": "presentation_datetime",
        "incident_datetime": "injury_datetime",
        "location_type_code": "injury_place_type",
        "location_text": "injury_place_text",
        "weapon_code": "injury_method",
        "age_band": "pt_age_group",
        "sex": "pt_sex",
    }
    return "RJ122_warehouse_2025-03.csv", _csv(df), cols


CORPUS = [
    merged_header_xlsx,
    welsh_bilingual_csv,
    weapon_flags_csv,
    snomed_display_csv,
    excel_serial_bands_csv,
    unfamiliar_words_csv,
    iso_snake_case_csv,
]
HELDOUT = [heldout_title_rows_csv, heldout_xlsx]
