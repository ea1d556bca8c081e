"""Scale: 10 years x 200 departments (about 3 million records) through the normal ingest path.

Prints figures only (no assertions); record them in benchmarks/RESULTS.md. Steps, each with its
wall time and the process's peak RSS during the step:

1. generate + ingest: the sample-feed generator (fixed seed, real London places, realistic
   repetition and a long tail of texts) writes one ISTV MDS extract per department-month for 200
   synthetic departments (the registry's real EDs' catchments, cycled) and each goes through
   the batch ingest path (``istvhub.ingest.batch.ingest_many``: read, adapt, PII guard and
   validate the files of one layout in one pass, each stored as its own version;
   ``--one-at-a-time``: ``ingest_bytes`` per file). Ingest rows/s counts the time inside ingest
   only, not the generator's.
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
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sample_feeds"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate as gen  # noqa: E402  (the sample-feed generator, a script beside the feeds)
from scale_store import clone_back, fill_geocodes_from_truth  # noqa: E402

from istvhub.core.config import DATA_DIR, default_sources  # noqa: E402
from istvhub.core.periods import month_add, month_range  # noqa: E402

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CTX = mp.get_context("spawn")  # each step starts clean, so its peak RSS is its own


# --------------------------------------------------------------------------- measuring
def _hwm_mb() -> float:
    """This process's peak RSS (VmHWM: per address space, so fresh after the spawn's exec;
    ru_maxrss would carry the parent's size over the exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(q, fn, args) -> None:
    """Run one step in a fresh (spawned) interpreter: its peak RSS is the step's own."""
    try:
        t0 = time.perf_counter()
        out = fn(*args) or {}
        out["seconds"] = round(time.perf_counter() - t0, 2)
        out["peak_rss_mb"] = round(_hwm_mb())
        q.put(("ok", out))
    except BaseException:  # noqa: BLE001  (reported to the parent, which stops the run)
        q.put(("error", traceback.format_exc()))


def spawn(fn, *args):
    """Start ``fn(*args)`` in a spawned process; ``collect`` returns its figures."""
    q = CTX.Queue()
    p = CTX.Process(target=_child, args=(q, fn, args))
    p.start()
    return p, q


def collect(job) -> dict:
    p, q = job
    kind, out = q.get()
    p.join()
    if kind != "ok":
        raise SystemExit(f"a step failed in its process:\n{out}")
    return out


def step(name: str, results: list[dict], fn, *args) -> dict:
    """One measured step in its own process; prints its figures and appends a result row."""
    out = collect(spawn(fn, *args))
    row = {"step": name, **out}
    results.append(row)
    print(
        f"  {name}: {row['seconds']} s, peak RSS {row['peak_rss_mb']} MB",
        {k: v for k, v in row.items() if k not in ("step", "seconds", "peak_rss_mb")},
        flush=True,
    )
    return row


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
def usable_templates(pairs: list[tuple[str, str]]) -> dict:
    """Re-pair the synthetic departments with the real EDs that have every kind of place near
    them in the sources (the generator needs all of them)."""
    s = gen.load_sources(default_sources())
    kinds = ("pc", "streets", "junctions", "venues", "stations", "stops", "areas")
    reals = []
    for real in dict.fromkeys(r for _, r in pairs):
        p = gen.build_pools(s, real)
        if all(len(getattr(p, k)) for k in kinds):
            reals.append(real)
    if not reals:
        raise SystemExit("no registry ED has every kind of place near it in the sources")
    return {
        "templates": len(reals),
        "pairs": [(code, reals[i % len(reals)]) for i, (code, _) in enumerate(pairs)],
    }


def ingest_worker(url, reg, pairs, index, periods, volume, truth_path, one_at_a_time=False) -> dict:
    """Generate and ingest the department-months of ``pairs`` (this worker's share) through
    the normal ingest path: the batch path (``ingest_many``: the files of one layout adapted in
    one pass, each stored as its own version), or ``ingest_bytes`` file by file with
    ``one_at_a_time``. Each department has its own seeded generator, so the data do not depend
    on how many workers share the work."""
    from istvhub.ingest.batch import BATCH_FILES, ingest_many
    from istvhub.ingest.core import ingest_bytes
    from istvhub.store import open_store

    store = open_store(url, registry=reg)
    s = gen.load_sources(default_sources())
    pools: dict[str, object] = {}
    truth: list[pd.DataFrame] = []
    rows = files = 0
    ingest_s = gen_s = 0.0
    pending: list[tuple[str, bytes]] = []

    def flush() -> None:
        nonlocal rows, files, ingest_s
        t1 = time.perf_counter()
        if one_at_a_time:
            out = [
                ingest_bytes(
                    data,
                    name,
                    store,
                    department=name.split("_")[0],
                    period=name[-11:-4],
                    geocode=False,
                )
                for name, data in pending
            ]
        else:
            out = ingest_many(pending, store, geocode=False)
        ingest_s += time.perf_counter() - t1
        for (name, _data), res in zip(pending, out, strict=True):
            if res.status != "stored":
                raise SystemExit(f"{name}: {res.status}: {res.message}")
            rows += res.rows_accepted
            files += 1
        pending.clear()

    for k, (code, real) in zip(index, pairs, strict=True):
        if real not in pools:
            pools[real] = gen.build_pools(s, real)
        rng = np.random.default_rng([gen.SEED, k])
        R = gen.Renderer(rng)
        d = gen.Dept(code, "istv_mds", "csv", volume)
        for period in periods:
            t0 = time.perf_counter()
            recs = gen.month_records(d, period, s, pools[real], R)
            data, _ = gen.write_istv_mds(d, period, recs, rng)
            gen_s += time.perf_counter() - t0
            pending.append((f"{code}_{period}.csv", data))
            if len(pending) >= BATCH_FILES:
                flush()
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
    flush()
    store.dispose()
    pd.concat(truth, ignore_index=True).to_parquet(truth_path)
    return {"rows": rows, "files": files, "ingest_s": ingest_s, "gen_s": gen_s}


def generate_and_ingest(
    url, reg, pairs, periods, volume, workers, tmp: Path, results, one_at_a_time=False
) -> None:
    """Ingest every department-month with ``workers`` processes (departments split between
    them, as independent uploads would be)."""
    t0 = time.perf_counter()
    jobs = []
    for w in range(workers):
        idx = list(range(w, len(pairs), workers))
        share = [pairs[i] for i in idx]
        jobs.append(
            spawn(
                ingest_worker,
                url,
                reg,
                share,
                idx,
                periods,
                volume,
                tmp / f"truth-{w}.parquet",
                one_at_a_time,
            )
        )
    outs = [collect(j) for j in jobs]
    wall = time.perf_counter() - t0
    rows = sum(o["rows"] for o in outs)
    ingest_s = sum(o["ingest_s"] for o in outs)
    row = {
        "step": f"generate+ingest ({workers} processes)",
        "seconds": round(wall, 1),
        "peak_rss_mb": max(o["peak_rss_mb"] for o in outs),
        "files": sum(o["files"] for o in outs),
        "rows": rows,
        "ingest_rows_per_s_per_process": round(rows / ingest_s) if ingest_s else None,
        "ingest_ms_per_file": round(1000 * ingest_s / max(1, sum(o["files"] for o in outs)), 1),
        "rows_per_s_wall_incl_generator": round(rows / wall),
        "generator_seconds": round(sum(o["gen_s"] for o in outs), 1),
    }
    results.append(row)
    print("  " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)


def fill_step(url, home, tmp) -> dict:
    from istvhub.store import open_store

    truth = pd.concat([pd.read_parquet(p) for p in sorted(tmp.glob("truth-*.parquet"))])
    store = open_store(url)
    try:
        return {"records": fill_geocodes_from_truth(store, truth, home)}
    finally:
        store.dispose()


def clone_step(url, first, last, copies, span) -> dict:
    from istvhub.store import open_store

    store = open_store(url)
    try:
        added = clone_back(store, first, last, copies, span)
        with store.engine.connect() as conn:
            total = conn.execute(sa.text("select count(*) from records")).scalar_one()
        return {"records_added": added, "records_in_store": total}
    finally:
        store.dispose()


def _distinct_pairs(url, n: int) -> pd.DataFrame:
    from istvhub.store import open_store

    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return pd.DataFrame(
                conn.execute(
                    sa.text(
                        "select location_text, department from "
                        "(select distinct location_text, department from records) d "
                        "order by random() limit :n"
                    ),
                    {"n": n},
                ).all(),
                columns=["location_text", "department"],
            )
    finally:
        store.dispose()


def count_distinct(url) -> dict:
    from istvhub.store import open_store

    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            q = "select count(*) from (select distinct location_text, department from records) d"
            return {"distinct_text_department_pairs": conn.execute(sa.text(q)).scalar_one()}
    finally:
        store.dispose()


def geocode_one(url, home, pairs_path) -> dict:
    """Load the geocoder (timed apart) and geocode the sample in this one process."""
    from istvhub.geocode.shared import shared_geocoder

    frame = pd.read_parquet(pairs_path)
    t0 = time.perf_counter()
    geocoder = shared_geocoder(home, url)
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    geocoder.geocode_frame(frame)
    s = time.perf_counter() - t1
    return {
        "load_s": round(load_s, 2),
        "distinct": len(frame),
        "per_s": round(len(frame) / s),
        "per_s_incl_load": round(len(frame) / (s + load_s)),
    }


def geocode_many(url, home, pairs_path, workers) -> dict:
    """``geocode_parallel`` as ``istvhub geocode --stored --workers N`` runs it (load included:
    each worker loads or inherits the gazetteer once)."""
    from istvhub.geocode.parallel import geocode_parallel

    frame = pd.read_parquet(pairs_path)
    t0 = time.perf_counter()
    geocode_parallel(frame, home=home, db_url=url, workers=workers)
    s = time.perf_counter() - t0
    return {"distinct": len(frame), "per_s_incl_load": round(len(frame) / s)}


def layer_step(url, home, start, end, borough) -> dict:
    """One layer build as a served worker does it: the block index is built once per worker at
    start-up (``network_for``, not timed here, reported as ``index_s``); then the store read and
    the build (no file export), once cold and once again (``repeat_s``: the same worker's next
    request for other filters pays the same)."""
    from istvhub.api.layers_cache import network_for
    from istvhub.hotblocks.aggregate import Filters, build_layers
    from istvhub.hotblocks.disclosure import get_rule
    from istvhub.hotblocks.service import read_layer_records
    from istvhub.store import open_store

    t0 = time.perf_counter()
    net = network_for(home)
    index_s = time.perf_counter() - t0
    f = Filters(start, end, boroughs=(borough,) if borough else ())
    store = open_store(url)
    out: dict = {"index_s": round(index_s, 2)}
    try:
        for label in ("build_s", "repeat_s"):
            t0 = time.perf_counter()
            # the served path: a borough build reads only what can reach its units
            df = read_layer_records(store, f, net.index, net.lsoas, net.areas21, home)
            read_s = time.perf_counter() - t0
            lay = build_layers(
                df,
                net.index,
                f,
                get_rule(None),
                lsoas=net.lsoas,
                gazetteer_version=net.version,
                areas21=net.areas21,
            )
            out[label] = round(time.perf_counter() - t0, 2)
            out.setdefault("read_s", round(read_s, 2))
            out.setdefault("records_read", len(df))
            del df
    finally:
        store.dispose()
    out.update(blocks=len(lay.blocks), hexes=len(lay.hexes), lsoas=len(lay.lsoas))
    return out


def compliance_step(url, start, end) -> dict:
    from istvhub.compliance.service import build_report

    rep = build_report(url, start=start, end=end)
    cells = getattr(rep, "cells", None)
    return {"cells": len(cells) if cells is not None else None}


def equality_step(url, start, end) -> dict:
    from istvhub.equality.service import build_table
    from istvhub.store import open_store

    store = open_store(url)
    try:
        build_table(store.engine, start=start, end=end, by="age_band,sex,weapon")
    finally:
        store.dispose()
    return {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="SQLAlchemy URL (default: a fresh schema on the local PostgreSQL)")
    ap.add_argument("--records", type=int, default=3_000_000, help="about this many records")
    ap.add_argument("--departments", type=int, default=200)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--end", default="2025-12", help="last month (YYYY-MM)")
    ap.add_argument("--borough", default="Lambeth")
    ap.add_argument("--geocode-sample", type=int, default=20_000, help="distinct texts to time")
    ap.add_argument("--workers", type=int, default=2, help="geocoding processes")
    ap.add_argument("--ingest-workers", type=int, default=2, help="ingesting processes")
    ap.add_argument(
        "--ingest-months",
        type=int,
        help="ingest only the last N months through the normal path and copy "
        "them back span by span in SQL to fill --months (default: ingest every month)",
    )
    ap.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="ingest each file alone (ingest_bytes) instead of the batch path",
    )
    ap.add_argument(
        "--ingest-only", action="store_true", help="stop after generate + ingest (no gazetteer)"
    )
    ap.add_argument("--home", type=Path, help="ISTVHUB_HOME with a built gazetteer")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema afterwards")
    ap.add_argument(
        "--load-only", action="store_true", help="stop after loading (profile the store later)"
    )
    args = ap.parse_args(argv)

    home = (args.home or Path(os.environ.get("ISTVHUB_HOME", "istvhub-data"))).resolve()
    if not args.ingest_only and not (home / "gazetteer" / "CURRENT").is_file():
        raise SystemExit(f"no gazetteer under {home}: run `istvhub demo` or pass --home")
    months = args.months
    ingest_months = args.ingest_months or months
    if ingest_months < months and months % ingest_months:
        raise SystemExit("--ingest-months must divide --months")
    deps = args.departments
    # keep 10 years x 200 departments when asked for fewer records: thin the volume first
    volume = max(60, round(args.records / (deps * months)))
    while deps * months * volume > args.records * 1.15 and deps > 10:
        deps -= 10
    periods = month_range(month_add(args.end, -(months - 1)), args.end)
    ingested = periods[-ingest_months:]
    url, schema = fresh_db(args.db)
    if schema:
        print(f"  PostgreSQL schema {schema}" + (" (kept)" if args.keep else ""), flush=True)
    results: list[dict] = []
    print(
        f"scale: {deps} departments x {months} months x ~{volume} records/month "
        f"(~{deps * months * volume:,}) on {sa.engine.make_url(url).get_backend_name()}; "
        f"{len(ingested)} months ingested through "
        + ("ingest_bytes" if args.one_at_a_time else "the batch path")
        + (f", {months // ingest_months - 1} copies back in SQL" if ingest_months < months else ""),
        flush=True,
    )
    from istvhub.store import open_store

    last = periods[-1]
    year = month_add(last, -11)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        reg = tmp / "departments.csv"
        pairs = synthetic_registry(deps, reg)
        open_store(url, registry=reg).dispose()  # create the schema once, before the workers
        try:
            pairs = collect(spawn(usable_templates, pairs))["pairs"]
            generate_and_ingest(
                url,
                reg,
                pairs,
                ingested,
                volume,
                args.ingest_workers,
                tmp,
                results,
                args.one_at_a_time,
            )
            if args.ingest_only:
                return _table(results)
            step("distinct texts", results, count_distinct, url)
            sample = _distinct_pairs(url, 2 * args.geocode_sample)
            # two disjoint halves: the geocoder memoises texts
            sample.iloc[: len(sample) // 2].to_parquet(tmp / "g1.parquet")
            sample.iloc[len(sample) // 2 :].to_parquet(tmp / "g2.parquet")
            one = step("geocode 1 process", results, geocode_one, url, home, tmp / "g1.parquet")
            many = step(
                f"geocode {args.workers} processes",
                results,
                geocode_many,
                url,
                home,
                tmp / "g2.parquet",
                args.workers,
            )
            print(
                f"  geocode ratio {args.workers} processes / 1: "
                f"{many['per_s_incl_load'] / one['per_s_incl_load']:.2f}x (both including "
                "the one gazetteer load)",
                flush=True,
            )
            step("fill geocodes from truth", results, fill_step, url, home, tmp)
            if ingest_months < months:
                step(
                    "copy months back in SQL",
                    results,
                    clone_step,
                    url,
                    ingested[0],
                    last,
                    months // ingest_months - 1,
                    ingest_months,
                )
            if args.load_only:
                return 0
            for label, start in (("12 months", year), (f"{months} months", periods[0])):
                for area in (None, args.borough):
                    name = f"layers {area or 'London'} {label}"
                    step(name, results, layer_step, url, home, start, last, area)
            for area in (None, args.borough):
                name = f"layers {area or 'London'} one month"
                step(name, results, layer_step, url, home, last, last, area)
            step(
                f"compliance {deps} x {months}",
                results,
                compliance_step,
                url,
                periods[0],
                last,
            )
            step("equality London one year", results, equality_step, url, year, last)
        finally:
            if schema and not args.keep:
                eng = sa.create_engine(PG_BASE)
                with eng.begin() as c:
                    c.execute(sa.text(f'drop schema if exists "{schema}" cascade'))
                eng.dispose()
    return _table(results)


def _table(results: list[dict]) -> int:
    print("\n| step | seconds | peak RSS MB | figures |\n|---|---|---|---|")
    for r in results:
        extra = ", ".join(
            f"{k} {v}" for k, v in r.items() if k not in ("step", "seconds", "peak_rss_mb")
        )
        print(f"| {r['step']} | {r['seconds']} | {r['peak_rss_mb']} | {extra} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
