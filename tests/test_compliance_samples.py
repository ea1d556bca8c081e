"""Compliance on the sample feeds: every manifest file ingested into a temporary store at the
manifest's simulated arrival time, then the report checked against the manifest's faults and
against counts computed here, independently, from the raw files with pandas."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from conftest import SAMPLE_FEEDS
from istvhub.compliance.read import read_inputs
from istvhub.compliance.report import compliance_report
from istvhub.compliance.rules import load_rules

MANIFEST = SAMPLE_FEEDS / "manifest.csv"
CODES = Path(__file__).resolve().parents[1] / "src" / "istvhub" / "data" / "codes"
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")

pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason="sample feeds not generated")


# ----------------------------------------------------------------------------- raw counts
# Each returns one row per accepted raw record with booleans: date, time, text present.


def _blank(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip() == ""


def _time_known(s: pd.Series) -> pd.Series:
    t = s.fillna("").astype(str).str.strip()
    return (t != "") & ~t.isin(["00:00", "00:00:00"])


def _coded(s: pd.Series, code_list: str, target: str) -> pd.Series | None:
    """Known (not 'unknown') by the raw code and the code list; None when the column does not
    hold codes (some departments send descriptions, which the adapters map by keyword)."""
    codes = pd.read_csv(CODES / f"{code_list}.csv", dtype=str, keep_default_na=False)
    v = s.fillna("").astype(str).str.strip().str.upper()
    all_codes = set(codes["code"].str.upper())
    if not v[v != ""].isin(all_codes).all():
        return None
    return v.isin(set(codes.loc[codes[target] != "unknown", "code"].str.upper()))


def _raw_istv_mds(path: Path) -> pd.DataFrame:
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    ok = pd.to_datetime(d["Arrival_Date"], format="%Y-%m-%d", errors="coerce").notna()
    d = d[ok]
    return pd.DataFrame(
        {
            "date": ~_blank(d["Assault_Date"]),
            "time": _time_known(d["Assault_Time"]),
            "text": ~_blank(d["Assault_Location_Description"]),
            "loctype": _coded(
                d["Assault_Location_Type_Code"], "istv_mds_location", "location_type"
            ),
            "weapon": _coded(d["Assault_Method_Code"], "istv_mds_weapon", "weapon"),
        }
    )


def _raw_ecds(path: Path) -> pd.DataFrame:
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    codes = pd.read_csv(CODES / "snomed_intent.csv", dtype=str)
    assault = set(codes.loc[codes["intent"] == "assault", "code"])
    d = d[d["EC_Injury_Intent_SNOMED_CT"].str.strip().isin(assault)]
    return pd.DataFrame(
        {
            "date": ~_blank(d["EC_Injury_Date"]),
            "time": _time_known(d["EC_Injury_Time"]),
            "text": ~_blank(d["Assault_Location_Description"]),
        }
    )


def _raw_legacy_pas(path: Path) -> pd.DataFrame:
    d = pd.read_csv(
        path, dtype=str, keep_default_na=False, encoding="cp1252", sep=None, engine="python"
    )
    d = d[~_blank(d["AttendanceRef"])]
    return pd.DataFrame(
        {
            "date": ~_blank(d["IncidentDate"]),
            "time": _time_known(d["IncidentTime"]),
            "text": ~_blank(d["AssaultLocDesc"]),
            "loctype": _coded(d["AssaultLocationType"], "pas_location", "location_type"),
            "weapon": _coded(d["AssaultMethod"], "pas_method", "weapon"),
        }
    )


def _raw_ucc_xlsx(path: Path) -> pd.DataFrame:
    raw = pd.read_excel(path, header=None, dtype=str)
    hdr = int(raw.index[raw.iloc[:, 0].astype(str).str.strip() == "Ref"][0])
    d = pd.read_excel(path, header=hdr, dtype=str, keep_default_na=False)
    d = d[~_blank(d["Ref"])]
    return pd.DataFrame(
        {
            "date": ~_blank(d["Date of incident"]),
            "time": _time_known(d["Time of incident"]),
            "text": ~_blank(d["Where did it happen"]),
        }
    )


def _raw_rj701(path: Path) -> pd.DataFrame:
    d = pd.read_csv(path, sep="|", dtype=str, keep_default_na=False)
    inj = d["InjuredAt"].str.strip()
    tpart = inj.str.slice(12)
    return pd.DataFrame(
        {"date": inj != "", "time": _time_known(tpart), "text": ~_blank(d["IncidentLocation"])}
    )


RAW = {
    "istv_mds": _raw_istv_mds,
    "ecds": _raw_ecds,
    "legacy_pas": _raw_legacy_pas,
    "ucc_xlsx": _raw_ucc_xlsx,
    "mapping:rj701_symphony": _raw_rj701,
}


# ----------------------------------------------------------------------------- the store


def _manifest() -> pd.DataFrame:
    m = pd.read_csv(MANIFEST, dtype=str, keep_default_na=False)
    m["arrived"] = [datetime.fromisoformat(t).replace(tzinfo=LONDON) for t in m["received_at"]]
    return m.sort_values("arrived").reset_index(drop=True)


def _ingest_all(url: str) -> pd.DataFrame:
    from istvhub.ingest.core import ingest_file
    from istvhub.store import open_store

    m = _manifest()
    store = open_store(url)
    status = []
    try:
        for r in m.itertuples(index=False):
            # as the upload form sends them: department, month and layout chosen by the ED
            res = ingest_file(
                SAMPLE_FEEDS / r.file,
                store,
                geocode=False,
                department=r.department,
                period=r.period,
                adapter=r.adapter,
                received_at=r.arrived,
            )
            status.append(res.status)
    finally:
        store.dispose()
    m["ingest_status"] = status
    return m


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def sample_store(request, tmp_path_factory):
    """The sample feeds in a fresh store on each backend (built once per module and backend)."""
    import sqlalchemy as sa

    import conftest

    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('samples') / 'istvhub.db'}"
    elif not conftest._PG_OK:
        pytest.skip("PostgreSQL not reachable")
    else:
        url, schema = conftest._pg_url_with_fresh_schema()
    try:
        manifest = _ingest_all(url)
        eng = sa.create_engine(url)
        try:
            inputs = read_inputs(eng)
        finally:
            eng.dispose()
    except BaseException:
        if schema:
            conftest._drop_pg_schema(schema)
        raise
    rep = compliance_report(
        inputs.departments,
        inputs.submissions,
        inputs.record_stats,
        start="2025-01",
        end="2025-12",
        rules=load_rules(),
        now=AS_OF,
    )
    yield manifest, inputs, rep
    if schema:
        conftest._drop_pg_schema(schema)


def _cells(rep):
    return rep.cells.set_index(["department", "period"])


def test_manifest_faults_show_in_the_report(sample_store):
    manifest, _, rep = sample_store
    cells = _cells(rep)
    notes = manifest.set_index("file")["note"]
    # the PII file was rejected whole; every other file stored
    rejected = set(manifest.loc[manifest["ingest_status"] == "rejected", "file"])
    assert rejected == {f for f in notes.index if notes[f].startswith("PII")}
    assert set(manifest["ingest_status"]) - {"rejected"} == {"stored"}

    # the missing month: a month inside a department's run of files with no file at all
    missing = []
    for dep, g in manifest.groupby("department"):
        have = set(g["period"])
        for p in pd.period_range(min(have), max(have), freq="M").astype(str):
            if p not in have:
                missing.append((dep, p))
    assert missing, "the sample feeds have a missing month"
    for key in missing:
        assert cells.loc[key, "status"] == "missing"
        assert cells.loc[key, "rag"] == "red"

    late = manifest[manifest["note"].str.startswith("late")]
    assert len(late) == 1
    key = (late["department"].item(), late["period"].item())
    assert cells.loc[key, "on_time"] is False
    assert cells.loc[key, "days_late"] >= 1
    assert cells.loc[key, "rag"] in ("amber", "red")
    assert cells.loc[key, "reasons"].startswith("late")
    # every other stored month arrived before its deadline
    on = rep.cells[(rep.cells["status"] == "received")]
    assert int((on["on_time"] == False).sum()) == 1  # noqa: E712

    re_up = manifest[manifest["note"].str.startswith("re-upload")]
    key = (re_up["department"].item(), re_up["period"].item())
    assert cells.loc[key, "versions"] == 2
    assert cells.loc[key, "records"] == len(RAW["ecds"](SAMPLE_FEEDS / re_up["file"].item()))
    # the month re-sent after the PII rejection has one stored version
    pii = manifest[manifest["note"].str.startswith("PII")]
    assert cells.loc[(pii["department"].item(), pii["period"].item()), "versions"] == 1


def test_department_joining_part_way_is_not_missing(sample_store):
    manifest, inputs, rep = sample_store
    cells = _cells(rep)
    since = inputs.departments.set_index("ods_code")["sharing_since"].dropna()
    joiners = [d for d in manifest["department"].unique() if d in since.index]
    assert joiners, "a sample department joins part-way through the year"
    for dep in joiners:
        first = since[dep]
        assert min(manifest.loc[manifest["department"] == dep, "period"]) == first
        for p in pd.period_range("2025-01", first, freq="M").astype(str)[:-1]:
            assert cells.loc[(dep, p), "status"] == "not_expected"
            assert cells.loc[(dep, p), "rag"] == "grey"
        assert cells.loc[(dep, first), "status"] == "received"
        d = rep.departments.set_index("department").loc[dep]
        assert d["expected_months"] == len(pd.period_range(first, "2025-12", freq="M"))


def test_completeness_matches_raw_files(sample_store):
    manifest, _, rep = sample_store
    cells = _cells(rep)
    current = (
        manifest[manifest["ingest_status"] == "stored"]
        .sort_values("arrived")
        .groupby(["department", "period"])
        .tail(1)
    )
    checked = coded = 0
    for r in current.itertuples(index=False):
        raw = RAW[r.adapter](SAMPLE_FEEDS / r.file)
        c = cells.loc[(r.department, r.period)]
        n = len(raw)
        assert c["records"] == n, r.file
        assert c["complete_incident_date"] == pytest.approx(raw["date"].sum() / n), r.file
        assert c["complete_incident_time"] == pytest.approx(raw["time"].sum() / n), r.file
        assert c["complete_location_text"] == pytest.approx(raw["text"].sum() / n), r.file
        checked += 1
        for col, field in (("loctype", "complete_location_type"), ("weapon", "complete_weapon")):
            if col in raw and raw[col].notna().all():
                assert c[field] == pytest.approx(raw[col].sum() / n), (r.file, field)
                coded += 1
    assert checked == len(current) >= 70
    assert coded >= 40  # location type and weapon checked wherever the raw file holds codes


def test_quarantined_rows_match_raw_bad_dates(sample_store):
    manifest, _, rep = sample_store
    bad = manifest[manifest["note"].str.startswith("bad dates")]
    path = SAMPLE_FEEDS / bad["file"].item()
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    n_bad = int(pd.to_datetime(d["Arrival_Date"], format="%Y-%m-%d", errors="coerce").isna().sum())
    assert n_bad == 6
    c = _cells(rep).loc[(bad["department"].item(), bad["period"].item())]
    assert c["rows_quarantined"] == n_bad
    assert c["records"] == len(d) - n_bad


def test_london_summary_on_the_samples(sample_store):
    manifest, inputs, rep = sample_store
    deps = rep.departments.set_index("department")
    sample_deps = set(manifest["department"])
    # departments in the registry that sent nothing are red every month, never consistent
    silent = deps[~deps.index.isin(sample_deps)]
    assert len(silent) and not silent["consistent"].any()
    assert (silent["months_red"] == 12).all() | (silent["months_grey"] > 0).all()
    n = int(deps["consistent"].sum())
    m = int(deps["agreed"].sum())
    assert m == len(inputs.departments)
    assert rep.summary["line"] == f"{n} of {m} departments sharing consistently"
    assert deps.loc[list(sample_deps), "consistent"].sum() == n
