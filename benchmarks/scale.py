"""Scale: 10 years x 200 departments (about 3 million records) through the normal ingest path.

Prints figures only (no assertions); record them in benchmarks/RESULTS.md. Steps, each with its
wall time and the process's peak RSS during the step:

1. generate + ingest: the sample-feed generator (fixed seed, real London places, realistic
   repetition and a long tail of texts) writes one ISTV MDS extract per department-month for 200
   synthetic departments (the registry's real EDs' catchments, cycled) and each goes through
   ``ingest_bytes`` (read, adapt, PII guard, validate, store in one transaction). Ingest rows/s
   counts the time inside ingest only, not the generator's.
2. geocode: distinct (text, department) pairs drawn from the store, geocoded with 1 process and
   with N (``geocode_parallel``, what ``istvhub geocode --stored --workers N`` runs): distinct
   texts/s each and the ratio.
3. layers: to build hot-block layers over every record without geocoding millions of distinct
   texts here, each record's geocode columns are filled from the generator's own truth (the
   place it wrote the text from), which is what a geocoded store holds when the geocoder is
   right. Then London and one borough over 12 months and 10 years: blocks, hexes, LSOAs.
4. compliance for every department x month; equality for London over a year.

Run (PostgreSQL, the full size, about 30-60 min on 2 shared cores):
    .venv/bin/python benchmarks/scale.py
Smaller or on SQLite:
    .venv/bin/python benchmarks/scale.py --records 300000
    .venv/bin/python benchmarks/scale.py --db sqlite:////tmp/scale.db --records 1000000
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sample_feeds"))

import generate as gen  # noqa: E402  (the sample-feed generator, a script beside the feeds)

from istvhub.compliance.core import month_add, month_range  # noqa: E402
from istvhub.core.config import DATA_DIR, default_sources  # noqa: E402

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STATUS_OF = {"home": "home", "unknown": "unknown", "outside_area": "outside_area"}


# --------------------------------------------------------------------------- measuring
def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def step(name: str, results: list[dict], **extra):
    """Time a step and sample RSS every 50 ms; appends a result row (printed at the end)."""
    peak = [_rss_mb()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _rss_mb())

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    row = {"step": name, **extra}
    t0 = time.perf_counter()
    try:
        yield row
    finally:
        row["seconds"] = round(time.perf_counter() - t0, 2)
        stop.set()
        th.join()
        row["peak_rss_mb"] = round(max(peak[0], _rss_mb()))
        results.append(row)
        print(
            f"  {name}: {row['seconds']} s, peak RSS {row['peak_rss_mb']} MB",
            {k: v for k, v in row.items() if k not in ("step", "seconds", "peak_rss_mb")},
            flush=True,
        )


# --------------------------------------------------------------------------- set-up
def synthetic_registry(n: int, out: Path) -> list[tuple[str, str]]:
    """``n`` departments ZS001.. placed at the registry's Type 1 EDs (cycled); returns
    (synthetic code, the real ED whose catchment it uses)."""
    reg = pd.read_csv(DATA_DIR / "departments.csv", dtype=str, keep_default_na=False)
    eds = reg[reg["dept_type"] == "01"].reset_index(drop=True)
    rows, pairs = [], []
    for i in range(n):
        src = eds.iloc[i % len(eds)]
        code = f"ZS{i + 1:03d}"
        rows.append({**src.to_dict(), "ods_code": code, "name": f"Scale test ED {i + 1}"})
        pairs.append((code, src["ods_code"]))
    pd.DataFrame(rows).to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    return pairs


def fresh_db(db: str | None) -> tuple[str, str | None]:
    if db:
        return db, None
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    eng = sa.create_engine(PG_BASE)
    with eng.begin() as c:
        c.execute(sa.text(f'create schema "{schema}"'))
    eng.dispose()
    return f"{PG_BASE}?options=-csearch_path%3D{schema}", schema


# --------------------------------------------------------------------------- steps
def generate_and_ingest(store, pairs, periods, volume, results) -> pd.DataFrame:
    """Ingest every department-month; returns the truth (department, period, row, e, n, ...)."""
    from istvhub.ingest.core import ingest_bytes

    src = default_sources()
    s = gen.load_sources(src)
    rng = np.random.default_rng(gen.SEED)
    R = gen.Renderer(rng)
    pools = {}
    usable = {}  # the generator needs every kind of place near an ED; skip EDs lacking one
    for real in dict.fromkeys(r for _, r in pairs):
        p = gen.build_pools(s, real)
        kinds = ("pc", "streets", "junctions", "venues", "stations", "stops", "areas")
        if all(len(getattr(p, k)) for k in kinds):
            usable[real] = p
    if not usable:
        raise SystemExit("no registry ED has every kind of place near it in the sources")
    reals = sorted(usable)
    pairs = [(code, reals[i % len(reals)]) for i, (code, _) in enumerate(pairs)]
    pools.update(usable)
    print(f"  {len(reals)} EDs' catchments used as templates", flush=True)
    truth: list[pd.DataFrame] = []
    rows = 0
    ingest_s = 0.0
    gen_s = 0.0
    with step("generate+ingest", results, files=len(pairs) * len(periods)) as row:
        for k, (code, real) in enumerate(pairs):
            d = gen.Dept(code, "istv_mds", "csv", volume)
            for period in periods:
                t0 = time.perf_counter()
                recs = gen.month_records(d, period, s, pools[real], R)
                data, _ = gen.write_istv_mds(d, period, recs, rng)
                t1 = time.perf_counter()
                res = ingest_bytes(
                    data,
                    f"{code}_{period}.csv",
                    store,
                    department=code,
                    period=period,
                    geocode=False,
                )
                ingest_s += time.perf_counter() - t1
                gen_s += t1 - t0
                if res.status != "stored":
                    raise SystemExit(f"{code} {period}: {res.status}: {res.message}")
                rows += res.rows_accepted
                truth.append(
                    pd.DataFrame(
                        {
                            "department": code,
                            "period": period,
                            "source_row": np.arange(1, len(recs) + 1),
                            "category": [r.place.category for r in recs],
                            "e": [r.place.e for r in recs],
                            "n": [r.place.n for r in recs],
                            "tol": [r.place.tol for r in recs],
                        }
                    )
                )
            if (k + 1) % 20 == 0:
                print(f"    {k + 1}/{len(pairs)} departments, {rows:,} rows", flush=True)
        row.update(
            rows=rows,
            ingest_seconds=round(ingest_s, 1),
            generator_seconds=round(gen_s, 1),
            ingest_rows_per_s=round(rows / ingest_s) if ingest_s else None,
        )
    return pd.concat(truth, ignore_index=True)


def _areas_of(home: Path, e: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Borough name and LSOA code of each point (NaN points get None), from the gazetteer."""
    import geopandas as gpd

    from istvhub.hotblocks.service import load_network

    net = load_network(home)
    ok = ~(np.isnan(e) | np.isnan(n))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(e[ok], n[ok]), crs=27700)
    borough = np.full(len(e), None, dtype=object)
    lsoa = np.full(len(e), None, dtype=object)
    for layer, col, out in ((net.boroughs, "borough", borough), (net.lsoas, "lsoa_code", lsoa)):
        name = col if col in layer.columns else layer.columns[0]
        j = gpd.sjoin(pts, layer[[name, "geometry"]].to_crs(27700), how="left", predicate="within")
        j = j[~j.index.duplicated()]
        out[np.flatnonzero(ok)] = j[name].to_numpy(dtype=object)
    return borough, lsoa


def fill_geocodes_from_truth(store, truth: pd.DataFrame, home: Path, results) -> None:
    """Write the generator's own places onto the records (see the module docstring, step 3)."""
    from pyproj import Transformer

    with step("fill geocodes from truth", results) as row:
        with store.engine.connect() as conn:
            ids = pd.DataFrame(
                conn.execute(
                    sa.text("select id, department, period, source_row from records")
                ).all(),
                columns=["id", "department", "period", "source_row"],
            )
        ids["source_row"] = ids["source_row"].astype(int)
        # the MDS writer numbers data rows from 1 in record order: match on that order
        ids = ids.sort_values(["department", "period", "source_row"])
        ids["rank"] = ids.groupby(["department", "period"]).cumcount() + 1
        t = truth.rename(columns={"source_row": "rank"})
        df = ids.merge(t, on=["department", "period", "rank"], how="inner")
        status = df["category"].map(STATUS_OF).fillna("located")
        status[df["e"].isna() & (status == "located")] = "unknown"
        df["geo_status"] = status
        df["match_type"] = np.where(status == "located", df["category"], None)
        lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(
            df["e"].to_numpy(dtype=float), df["n"].to_numpy(dtype=float)
        )
        df["lat"], df["lon"] = lat, lon
        df["precision_m"] = df["tol"].astype(float).fillna(50.0)
        df["borough"], df["lsoa_code"] = _areas_of(
            home, df["e"].to_numpy(dtype=float), df["n"].to_numpy(dtype=float)
        )
        cols = ["id", "geo_status", "match_type", "lat", "lon", "e", "n", "precision_m"]
        cols += ["borough", "lsoa_code"]
        out = df[cols].rename(columns={"e": "easting", "n": "northing"})
        out.loc[out["geo_status"] != "located", ["lat", "lon", "easting", "northing"]] = None
        _bulk_update(store, out)
        row["records"] = len(out)


def _bulk_update(store, df: pd.DataFrame) -> None:
    cols = [c for c in df.columns if c != "id"]
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "create temp table g (id int, geo_status text, match_type text, lat float8, "
                "lon float8, easting float8, northing float8, precision_m float8, borough text, "
                "lsoa_code text) on commit drop"
            )
            raw = conn.connection.driver_connection
            buf = io.StringIO()
            df.to_csv(buf, index=False, header=False, na_rep="\\N", sep="\t")
            buf.seek(0)
            with raw.cursor() as cur, cur.copy("copy g from stdin") as cp:
                while chunk := buf.read(1 << 20):
                    cp.write(chunk)
            sets = ", ".join(f"{c} = g.{c}" for c in cols)
            conn.exec_driver_sql(f"update records r set {sets} from g where r.id = g.id")
        else:
            stmt = sa.text(
                "update records set " + ", ".join(f"{c} = :{c}" for c in cols) + " where id = :id"
            )
            recs = df.astype(object).where(df.notna(), None).to_dict("records")
            conn.execute(stmt, recs)


def geocode_throughput(store, home: Path, sample: int, workers: int, results) -> None:
    from istvhub.geocode.parallel import geocode_parallel
    from istvhub.geocode.shared import shared_geocoder

    with store.engine.connect() as conn:
        pairs = pd.DataFrame(
            conn.execute(
                sa.text(
                    "select location_text, department from "
                    "(select distinct location_text, department from records) d "
                    "order by random() limit :n"
                ),
                {"n": 2 * sample},
            ).all(),
            columns=["location_text", "department"],
        )
    # two disjoint halves: the geocoder memoises texts, and forked workers inherit the memo
    first, second = pairs.iloc[: len(pairs) // 2], pairs.iloc[len(pairs) // 2 :]
    with step("geocoder load", results):
        geocoder = shared_geocoder(home, store.url)
    with step("geocode 1 process", results, distinct=len(first)) as row:
        geocoder.geocode_frame(first)
    one = len(first) / row["seconds"]
    with step(f"geocode {workers} processes", results, distinct=len(second)) as row:
        geocode_parallel(second, home=home, db_url=store.url, workers=workers)
    many = len(second) / row["seconds"]
    print(
        f"  geocode distinct texts/s: 1 process {one:,.0f}; {workers} processes {many:,.0f}; "
        f"ratio {many / one:.2f}x",
        flush=True,
    )


def layers(store, home: Path, periods, borough: str, results) -> None:
    from istvhub.hotblocks.aggregate import Filters
    from istvhub.hotblocks.disclosure import get_rule
    from istvhub.hotblocks.service import hotblocks_from_store, load_network

    net = load_network(home)
    rule = get_rule(None)
    last = periods[-1]
    for label, start in (("12 months", month_add(last, -11)), ("10 years", periods[0])):
        for area in (None, borough):
            f = Filters(start, last, boroughs=(area,) if area else ())
            name = f"layers {area or 'London'} {label}"
            with step(name, results) as row:
                lay = hotblocks_from_store(store.url, f, rule, network=net)
                row.update(blocks=len(lay.blocks), hexes=len(lay.hexes), lsoas=len(lay.lsoas))
    f = Filters(last, last, boroughs=(borough,))
    with step(f"layers {borough} one month", results):
        hotblocks_from_store(store.url, f, rule, network=net)


def compliance_and_equality(store, periods, results) -> None:
    from istvhub.compliance.service import build_report
    from istvhub.equality.service import build_table

    with step("compliance all departments x months", results) as row:
        rep = build_report(store.url, start=periods[0], end=periods[-1])
        cells = getattr(rep, "cells", None)
        row["cells"] = len(cells) if cells is not None else None
    last = periods[-1]
    with step("equality London one year", results):
        build_table(store.engine, start=month_add(last, -11), end=last, by="age_band,sex,weapon")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="SQLAlchemy URL (default: a fresh schema on the local PostgreSQL)")
    ap.add_argument("--records", type=int, default=3_000_000, help="about this many records")
    ap.add_argument("--departments", type=int, default=200)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--end", default="2025-12", help="last month (YYYY-MM)")
    ap.add_argument("--borough", default="Lambeth")
    ap.add_argument("--geocode-sample", type=int, default=20_000, help="distinct texts to time")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--home", type=Path, help="ISTVHUB_HOME with a built gazetteer")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema afterwards")
    args = ap.parse_args(argv)

    home = args.home or Path(os.environ.get("ISTVHUB_HOME", "istvhub-data"))
    if not (home / "gazetteer" / "CURRENT").is_file():
        raise SystemExit(f"no gazetteer under {home}: run `istvhub demo` or pass --home")
    months = args.months
    deps = args.departments
    # keep 10 years x 200 departments when asked for fewer records: thin the volume first
    volume = max(60, round(args.records / (deps * months)))
    while deps * months * volume > args.records * 1.15 and deps > 10:
        deps -= 10
    periods = month_range(month_add(args.end, -(months - 1)), args.end)
    url, schema = fresh_db(args.db)
    results: list[dict] = []
    print(
        f"scale: {deps} departments x {months} months x ~{volume} records/month "
        f"(~{deps * months * volume:,}) on {sa.engine.make_url(url).get_backend_name()}",
        flush=True,
    )
    from istvhub.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        reg = Path(tmp) / "departments.csv"
        pairs = synthetic_registry(deps, reg)
        store = open_store(url, registry=reg)
        try:
            truth = generate_and_ingest(store, pairs, periods, volume, results)
            geocode_throughput(store, home, args.geocode_sample, args.workers, results)
            fill_geocodes_from_truth(store, truth, home, results)
            del truth
            layers(store, home, periods, args.borough, results)
            compliance_and_equality(store, periods, results)
        finally:
            store.dispose()
            if schema and not args.keep:
                eng = sa.create_engine(PG_BASE)
                with eng.begin() as c:
                    c.execute(sa.text(f'drop schema if exists "{schema}" cascade'))
                eng.dispose()
    print("\n| step | seconds | peak RSS MB | figures |\n|---|---|---|---|")
    for r in results:
        extra = ", ".join(
            f"{k} {v}" for k, v in r.items() if k not in ("step", "seconds", "peak_rss_mb")
        )
        print(f"| {r['step']} | {r['seconds']} | {r['peak_rss_mb']} | {extra} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
