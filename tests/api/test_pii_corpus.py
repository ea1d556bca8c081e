"""The PII corpus (issue 14, point 2): every identifier form goes in through the CLI and through
the API, in location and weapon free text, and a scan of the database finds none of them: the
SQLite file's bytes (and its WAL), or every row of every table on PostgreSQL."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from istvhub.store import schema as S

REPO = Path(__file__).resolve().parents[2]
MDS = REPO / "sample_feeds" / "RJ122" / "RJ122_2025-03.csv"

LOCATIONS = [
    "outside shop, email jo.bloggs@example.com",
    "call 07700 900123 o/s tesco",
    "+1 (212) 555-0187 brixton rd",
    "nhs 999.000.0018 kfc",
    "ref 999 000  0026 station",
    "born March 12, 1987 at pub",
    "dob 03/04/1988 bus stop",
    "Mr Jonathan Q Smithers hit him outside",
    "John Smith punched pt",
    "pt Ann Okafor at park",
    "at home, 12 Acacia Avenue SW9 8QD",  # (SE1 7EH is St Thomas' own, in the registry)
    "tel 020 7946 0958 at pub",  # UK landline
    "+44 7700 900456 o/s shop",  # UK mobile, international form
    "ring 0044 20 7946 0321 park",
    "(0207) 946 0777 shop",
    "patient Maria Lopez at bus stop",
    "victim Mrs Patel outside kfc",
    "Dr Ahmed Khan at station",
    "nhs 999-000-0034 kfc",  # NHS numbers with hyphens and with no separator
    "nhs no 9990000042 outside",
    "born 12th March 1987 outside",  # ordinal written date of birth
    "dob 12.03.1986 bus stop",  # numeric, dotted and ISO
    "DOB: 1985-07-21 outside",
]
WEAPON = "knife, victim Sarah Kowalski, tel 07911 123456"
#: what must not be found anywhere (lower case; numbers without separators)
NEEDLES = [
    "bloggs", "example.com", "07700900123", "2125550187", "9990000018", "9990000026",
    "march 12", "12, 1987", "03/04/19", "jonathan", "smithers", "john smith", "okafor",
    "kowalski", "07911123456", "8qd", "12 acacia", "02079460958", "7700900456",
    "2079460321", "02079460777", "lopez", "patel", "ahmed", "9990000034", "9990000042",
    "12th march", "march 1987", "12031986", "19850721",
]  # fmt: skip


def _corpus(period: str) -> bytes:
    df = pd.read_csv(MDS, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = df.iloc[: len(LOCATIONS)].copy()
    df["Assault_Location_Description"] = LOCATIONS[: len(df)]
    df["Assault_Method_Other_Description"] = WEAPON
    for c in df.columns:
        df[c] = df[c].str.replace("2025-03", period, regex=False)
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


def _blob(url: str, engine: sa.Engine) -> str:
    """Everything the database holds, as text."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1].split("?")[0])
        parts = [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.is_file()]
        return b"\n".join(parts).decode("latin-1").lower()
    out = []
    with engine.connect() as c:
        for t in S.metadata.sorted_tables:
            if sa.inspect(c).has_table(t.name):
                for row in c.execute(sa.select(t)):
                    out.extend(str(v) for v in row if v is not None)
    return "\n".join(out).lower()


def test_no_identifier_reaches_the_database(hub, db_url, tmp_path):
    assert len(LOCATIONS) <= len(pd.read_csv(MDS, dtype=str))
    # the CLI
    f = tmp_path / "RJ122_2025-03.csv"
    f.write_bytes(_corpus("2025-03"))
    env = {**os.environ, "ISTVHUB_HOME": str(hub.settings.home), "ISTVHUB_DB": db_url}
    r = subprocess.run(
        [sys.executable, "-m", "istvhub", "ingest", "--no-geocode", str(f)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    # the API
    r = hub.client.post(
        "/submissions",
        headers=hub.h("ed"),
        files={"file": ("RJ122_2025-02.csv", _corpus("2025-02"), "text/csv")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["pii_scrubbed"] >= len(LOCATIONS) + 1
    warned = {(i["row"], i["field"]) for i in body["issues"] if "identifier removed" in i["reason"]}
    assert {(n, "Assault_Location_Description") for n in range(1, len(LOCATIONS) + 1)} <= warned
    assert not any(n in str(body).lower() for n in NEEDLES)  # the report quotes no value
    recs = hub.client.get(f"/submissions/{body['submission_id']}/records", headers=hub.h("ed"))
    served = recs.text.lower()
    assert "[removed]" in served and "acacia avenue sw9" in served  # street and district kept
    subs = hub.store.submissions("RJ122")
    assert sorted(subs["period"]) == ["2025-02", "2025-03"]
    hub.store.engine.dispose()  # flush pooled SQLite connections before reading the file
    blob = _blob(db_url, hub.store.engine)
    squeezed = re.sub(r"(?<=\d)[ .()+-]+(?=\d)", "", blob)
    assert "acacia avenue sw9" in blob and "[removed]" in blob  # the scan does see stored text
    found = [n for n in NEEDLES if n in blob or n in squeezed]
    assert found == []
