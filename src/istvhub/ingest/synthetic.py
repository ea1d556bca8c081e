"""Synthetic ISTV minimum-data-set extracts at volume, for the ingest benchmark and the crash and
concurrency tests. No personal data: codes, bands and a few generic ED location phrases only.
(The realistic sample feeds, built from the real gazetteer, are `sample_feeds/generate.py`.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from istvhub.exportsafety import neutralise_frame

TEXTS = (
    "o/s maccys brixton rd",
    "Black Lion pub on Commercial Road",
    "home",
    "n/k",
    "jct acre ln / brixton hill",
    "nr clapham jct stn",
    "pt's flat",
    "London Eye, SE1",
    "sainsbury on wandsworth road sw8",
    "outside tesco harlesden",
)


def make_extract(
    path: Path, rows: int, seed: int = 1, dept: str = "RJ122", month: str = "2025-03"
) -> int:
    """Write a synthetic ISTV MDS CSV of one department-month to ``path``; returns its rows."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(f"{month}-01")
    days = start.days_in_month
    arrival = start + pd.to_timedelta(rng.integers(0, days * 86400 - 1, rows), unit="s")
    incident = arrival - pd.to_timedelta(rng.integers(0, 6 * 3600, rows), unit="s")
    df = pd.DataFrame(
        {
            "Site_Code_of_Treatment": dept,
            "Reporting_Period_Start_Date": f"{month}-01",
            "Reporting_Period_End_Date": f"{month}-{days:02d}",
            "Attendance_Identifier": [f"A{seed:03d}{i:08d}" for i in range(rows)],
            "Arrival_Date": arrival.strftime("%Y-%m-%d"),
            "Arrival_Time": arrival.strftime("%H:%M"),
            "Assault_Date": incident.strftime("%Y-%m-%d"),
            "Assault_Time": incident.strftime("%H:%M"),
            "Assault_Method_Code": rng.choice(["01", "02", "03", "04", "05", "06", "99"], rows),
            "Assault_Method_Other_Description": "",
            "Assault_Location_Type_Code": rng.choice(["01", "02", "03", "04", "07", "99"], rows),
            "Assault_Location_Description": rng.choice(TEXTS, rows),
            "Age_Band": rng.choice(["16-17", "18-24", "25-34", "35-44", "65+"], rows),
            "Sex": rng.choice(["1", "2", "9"], rows),
        }
    )
    neutralise_frame(df).to_csv(path, index=False)  # the package's one rule for CSV writers
    return rows
