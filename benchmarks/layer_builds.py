"""Hot-block layer builds on a loaded store, as a served worker runs them, old code against new.

Each case (area x period) runs in a fresh child process with one checkout's ``src`` first on the
path: the block index is built once (as a worker does at start-up, not timed), then the build is
timed cold (first request) and again (the worker's next request); each build is the store read
plus ``build_layers``. ``--old DIR`` alternates rounds of an older checkout with this one, so both
see the same machine load, and prints the medians side by side.

    .venv/bin/python benchmarks/layer_builds.py --db <url of a loaded store> \\
        --home <built gazetteer> --end 2025-12 [--old <checkout>] [--rounds 3]

Load the store first, e.g. ``benchmarks/scale.py --db <url> --months 12 --ingest-months 1
--load-only --keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
from pathlib import Path
from istvhub.api.layers_cache import network_for
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.disclosure import get_rule
from istvhub.store import open_store
import istvhub.hotblocks.service as svc

url, home, start, end, borough = sys.argv[1:6]
home = Path(home)
net = network_for(home)
store = open_store(url)
f = Filters(start, end, boroughs=(borough,) if borough else ())
out = {}
for label in ("cold_s", "repeat_s"):
    t0 = time.perf_counter()
    if hasattr(svc, "read_layer_records"):
        recs = svc.read_layer_records(store, f, net.index, net.lsoas, net.areas21, home)
    else:
        df = store.current_records(period_from=start, period_to=end, columns=svc.LAYER_READ_COLUMNS)
        recs = svc.layer_input(df, home)
    t1 = time.perf_counter()
    lay = build_layers(recs, net.index, f, get_rule(None), lsoas=net.lsoas,
                       gazetteer_version=net.version, areas21=net.areas21)
    out[label] = round(time.perf_counter() - t0, 3)
    out[label.replace("_s", "_read_s")] = round(t1 - t0, 3)
    out["records_read"] = len(recs)
    out["blocks"] = len(lay.blocks)
store.dispose()
print(json.dumps(out))
"""


def run_case(src: Path, url: str, home: Path, start: str, end: str, borough: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    res = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(home), start, end, borough],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode:
        raise SystemExit(f"case {borough or 'London'} {start}..{end} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def month_back(period: str, k: int) -> str:
    y, m = int(period[:4]), int(period[5:7])
    t = y * 12 + (m - 1) - k
    return f"{t // 12:04d}-{t % 12 + 1:02d}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--home", type=Path, required=True, help="ISTVHUB_HOME with a gazetteer")
    ap.add_argument("--end", default="2025-12", help="last month (YYYY-MM)")
    ap.add_argument("--borough", default="Lambeth")
    ap.add_argument("--old", type=Path, help="a checkout of older code to compare against")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    year = month_back(args.end, 11)
    cases = [
        (f"{args.borough} one month", args.end, args.end, args.borough),
        ("London one month", args.end, args.end, ""),
        (f"{args.borough} 12 months", year, args.end, args.borough),
        ("London 12 months", year, args.end, ""),
    ]
    codes = [("new", REPO / "src")] + ([("old", args.old.resolve() / "src")] if args.old else [])
    got: dict[tuple[str, str], list[dict]] = {}
    for r in range(args.rounds):
        for name, start, end, borough in cases:
            for label, src in codes if r % 2 == 0 else codes[::-1]:
                row = run_case(src, args.db, args.home.resolve(), start, end, borough)
                got.setdefault((name, label), []).append(row)
                print(f"  round {r + 1} {name} {label}: {row}", flush=True)
    print("\n| case | code | records read | cold build s (median) | repeat s | read s (cold) |")
    print("|---|---|---:|---:|---:|---:|")
    for name, *_ in cases:
        for label, _src in codes:
            rows = got[(name, label)]

            def med(k: str, rows: list[dict] = rows) -> float:
                return round(statistics.median(x[k] for x in rows), 2)

            print(
                f"| {name} | {label} | {rows[0]['records_read']:,} | {med('cold_s')} | "
                f"{med('repeat_s')} | {med('cold_read_s')} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
