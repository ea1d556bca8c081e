"""Geocoder speed on one core (issue 12.7): ``Geocoder.load`` with and without the index cache,
distinct texts per second, and rows per second on a 100,000-row extract with realistic repetition;
distinct texts per second with 1 and 2 processes (``geocode_parallel``, as ``istvhub geocode
--stored --workers N`` runs it); optionally the naive baseline (rapidfuzz ``extractOne`` over all
gazetteer names) on a subsample.

Load: each measurement is a fresh process (as every CLI call, ingest worker and API worker is),
timing ``Geocoder.load`` alone (imports are reported apart). "built" runs with the cache off
(``ISTVHUB_GEOCODE_INDEX_CACHE=0``: what every load cost before it), "cached" reads the index file
beside the gazetteer. Distinct texts: every distinct (text, department) of the sample feeds'
ground truth and every text of geocode_dev.csv, on a fresh Geocoder (no result cache), after one
warm-up text has read the block and LSOA layers (a one-off per process, printed apart). Repetition:
rows drawn with replacement from the ground truth, a fifth given the case and spacing variants
receptionists produce. CPU seconds are printed beside wall seconds: on the shared machine the
wall clock mostly measures the other jobs. Processes: the same distinct texts with the result
cache and the typo memos emptied before each run, 1 and 2 processes alternately (``--proc-runs``
times each, medians), not pinned; the 2-process figure is only meaningful when the machine has
two idle cores, so the load average is printed with it.

    .venv/bin/python benchmarks/geocode_speed.py [--home ISTVHUB_HOME] [--rows 100000]
        [--loads 5] [--proc-runs 2] [--baseline-rows 0] [--against OTHER/src --rounds 3]

``--against`` times another checkout's ``src`` (an older commit) beside this one in one run:
fresh processes, alternating, each loading from its own index cache file and geocoding the
distinct texts after the warm-up text; medians of CPU seconds and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from istvhub.geocode import Geocoder  # noqa: E402

_LOAD_ONE = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from istvhub.geocode.geocoder import Geocoder
t1, c1 = time.perf_counter(), time.process_time()
g = Geocoder.load(Path(sys.argv[1]))
print(json.dumps({"import_s": t1 - t0, "wall_s": time.perf_counter() - t1,
                  "cpu_s": time.process_time() - c1, "entries": len(g.index.entries)}))
"""


def find_home(home: Path | None) -> Path:
    """``--home``, ISTVHUB_HOME, else the newest test-cache gazetteer."""
    from istvhub._errors import GazetteerNotBuilt
    from istvhub.gazetteer.load import resolve_version_dir

    for cand in (home, os.environ.get("ISTVHUB_HOME")):
        if cand:
            resolve_version_dir(Path(cand))
            return Path(cand)
    cache = sorted(
        (REPO / "tests" / ".cache").glob("gazetteer-*/gazetteer/CURRENT"),
        key=lambda p: p.stat().st_mtime,
    )
    if not cache:
        raise GazetteerNotBuilt("no gazetteer: pass --home (run istvhub gazetteer build)")
    return cache[-1].parents[1]


def time_loads(home: Path, n: int, cache: bool) -> list[dict[str, float]]:
    env = dict(os.environ, ISTVHUB_GEOCODE_INDEX_CACHE="1" if cache else "0")
    env["PYTHONPATH"] = str(REPO / "src")
    out = []
    for _ in range(n):
        p = subprocess.run(
            [sys.executable, "-c", _LOAD_ONE, str(home)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return out


def make_extract(n: int, seed: int = 1) -> pd.DataFrame:
    gt = pd.read_csv(REPO / "sample_feeds" / "ground_truth.csv", dtype={"text": str})
    gt["text"] = gt["text"].fillna("")
    rng = np.random.default_rng(seed)
    pick = gt.iloc[rng.integers(0, len(gt), n)].reset_index(drop=True)
    texts = pick["text"].to_numpy(dtype=object).copy()
    vary = rng.random(n) < 0.2
    for i in np.flatnonzero(vary):
        t = texts[i]
        k = rng.integers(0, 4)
        texts[i] = (
            t.upper()
            if k == 0
            else t.lower()
            if k == 1
            else f" {t}  "
            if k == 2
            else t.replace(" ", "  ", 1)
        )
    return pd.DataFrame({"location_text": texts, "department": pick["department"].to_numpy()})


def distinct_texts() -> pd.DataFrame:
    gt = pd.read_csv(REPO / "sample_feeds" / "ground_truth.csv", dtype=str)
    dev = pd.read_csv(REPO / "sample_feeds" / "geocode_dev.csv", dtype=str)
    return pd.concat(
        [
            gt[["text", "department"]].rename(columns={"text": "location_text"}),
            pd.DataFrame({"location_text": dev["text"], "department": None}),
        ],
        ignore_index=True,
    ).drop_duplicates()


def _timed(f):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    r = f()
    return r, time.perf_counter() - w, time.process_time() - c


def _med(xs: list[dict[str, float]], k: str) -> str:
    v = [x[k] for x in xs]
    return f"{statistics.median(v):.2f} (min {min(v):.2f}, max {max(v):.2f})"


_ONE_RUN = """
import json, sys, time
from istvhub.geocode.geocoder import Geocoder  # first: from PYTHONPATH, not the benchmark's src
import istvhub
sys.path.insert(0, sys.argv[2])
import geocode_speed as gs
from pathlib import Path
c0 = time.process_time()
g = Geocoder.load(Path(sys.argv[1]))
c1 = time.process_time()
g.geocode_frame(gs.WARM_UP)
g._cache.clear()
d = gs.distinct_texts()
c2 = time.process_time()
g.geocode_frame(d)
c3 = time.process_time()
print(json.dumps({"load": c1 - c0, "distinct": c3 - c2, "n": len(g._cache),
                  "src": istvhub.__file__}))
"""


def against(home: Path, other_src: Path, rounds: int) -> None:
    """This checkout and ``other_src`` alternately in fresh processes (see the docstring)."""
    runs: dict[str, list[dict[str, float]]] = {"this": [], "other": []}
    for r in range(rounds + 1):  # round 0 builds each side's index cache file, not counted
        for side, src in (("other", other_src), ("this", REPO / "src")):
            env = dict(os.environ, PYTHONPATH=str(src))
            p = subprocess.run(
                [sys.executable, "-c", _ONE_RUN, str(home), str(REPO / "benchmarks")],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            out = json.loads(p.stdout.strip().splitlines()[-1])
            assert Path(out["src"]).is_relative_to(src), out["src"]
            if r:
                runs[side].append(out)
    n = runs["this"][0]["n"]
    for k in ("load", "distinct"):
        for how, f in (("median", statistics.median), ("min", min)):
            a = f(x[k] for x in runs["other"])
            b = f(x[k] for x in runs["this"])
            rate = f" ({n / a:,.0f} -> {n / b:,.0f} distinct texts per CPU second)"
            print(
                f"against {other_src}: {k} CPU s, {how} of {rounds}: {a:.2f} -> {b:.2f}, "
                f"{a / b:.2f}x" + (rate if k == "distinct" else "")
            )


WARM_UP = pd.DataFrame({"location_text": ["outside brixton station"], "department": [None]})


def processes(home: Path, d: pd.DataFrame, runs: int) -> None:
    """Distinct texts/s with 1 and 2 processes, alternating, each from empty caches."""
    from istvhub.geocode.parallel import geocode_parallel
    from istvhub.geocode.shared import shared_geocoder

    geo = shared_geocoder(home)
    assert geo is not None
    times: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(runs):
        for n in (1, 2):
            geo._cache.clear()
            geo.index._init_memos()
            t0 = os.times()
            _, w, _ = _timed(
                lambda n=n: geocode_parallel(
                    d, home=home, db_url=None, workers=n, department_col="department"
                )
            )
            t1 = os.times()
            times[n].append(w)
            cpu[n].append(sum(t1[:4]) - sum(t0[:4]))  # this process and its workers
    one, two = statistics.median(times[1]), statistics.median(times[2])
    c1, c2 = statistics.median(cpu[1]), statistics.median(cpu[2])
    print(
        f"processes ({len(d):,} texts, {runs} runs each, load average {os.getloadavg()[0]:.1f}): "
        f"1 process {len(d) / one:,.0f} texts/s ({one:.2f} s wall, {c1:.2f} CPU s), "
        f"2 processes {len(d) / two:,.0f} texts/s ({two:.2f} s wall, {c2:.2f} CPU s): "
        f"{one / two:.2f}x wall; CPU for the same work {c2 / c1:.2f}x one process's "
        f"(on two idle cores at most {2 * c1 / c2:.2f}x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--loads", type=int, default=5, help="fresh processes per load figure")
    ap.add_argument("--baseline-rows", type=int, default=0)
    ap.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    ap.add_argument("--proc-runs", type=int, default=2, help="runs of 1 and of 2 processes")
    ap.add_argument("--against", type=Path, default=None, help="another checkout's src")
    ap.add_argument("--rounds", type=int, default=3, help="alternating runs for --against")
    args = ap.parse_args()
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if not args.all_cores and cores:
        os.sched_setaffinity(0, {min(cores)})  # children inherit it
    home = find_home(args.home)
    print(f"gazetteer home {home}; load average {os.getloadavg()[0]:.1f}")

    if args.against:
        against(home, args.against, args.rounds)
        return
    if args.loads:
        built = time_loads(home, max(1, args.loads // 2), cache=False)
        time_loads(home, 1, cache=True)  # makes sure the cache file exists
        cached = time_loads(home, args.loads, cache=True)
        print(f"index entries {built[0]['entries']:,}; import {_med(cached, 'import_s')} s")
        for label, xs in (("built (cache off)", built), ("cached", cached)):
            print(
                f"Geocoder.load {label}, {len(xs)} processes: wall {_med(xs, 'wall_s')} s, "
                f"CPU {_med(xs, 'cpu_s')} s"
            )

    geo, lw, lc = _timed(lambda: Geocoder.load(home))
    _, ww, wc = _timed(lambda: geo.geocode_frame(WARM_UP))
    print(
        f"this process: Geocoder.load {lw:.2f} s wall / {lc:.2f} s CPU; first text (reads "
        f"block/LSOA layers, word frequencies) {ww:.2f} s wall / {wc:.2f} s CPU"
    )
    geo._cache.clear()
    d = distinct_texts()
    res, dw, dc = _timed(lambda: geo.geocode_frame(d))
    n_d = len(geo._cache)
    print(
        f"distinct: {len(d):,} (text, department) rows -> {n_d:,} distinct pairs in "
        f"{dw:.2f} s wall / {dc:.2f} s CPU: {n_d / dw:,.0f} distinct texts/s wall, "
        f"{n_d / dc:,.0f} per CPU second"
    )

    geo._cache.clear()
    df = make_extract(args.rows)
    res, rw, rc = _timed(lambda: geo.geocode_frame(df))
    print(
        f"extract: {len(df):,} rows, {df['location_text'].nunique():,} distinct raw texts, "
        f"{len(geo._cache):,} distinct pairs: {rw:.2f} s wall / {rc:.2f} s CPU = "
        f"{len(df) / rw:,.0f} rows/s wall, {len(df) / rc:,.0f} per CPU second; "
        + ", ".join(f"{k} {v}" for k, v in res["geo_status"].value_counts().items())
    )

    if args.proc_runs:
        if cores and not args.all_cores:
            os.sched_setaffinity(0, cores)
        processes(home, d, args.proc_runs)

    if args.baseline_rows:
        from geocode_eval import baseline

        sample = df.sample(args.baseline_rows, random_state=0)["location_text"].tolist()
        _, bw, _ = _timed(lambda: baseline(geo.index.entries, sample))
        brate = len(sample) / bw
        print(
            f"baseline (extractOne over {len(geo.index.entries):,} names, {len(sample)} rows): "
            f"{brate:,.2f} rows/s -> {len(df) / brate / 3600:,.1f} h for the extract; "
            f"speed-up {len(df) / rw / brate:,.0f}x"
        )


if __name__ == "__main__":
    main()
