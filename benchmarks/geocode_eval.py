"""Score the geocoder against ground truth, with a naive baseline on the same rows in the same run.

Ground truth: any CSV with ``text,lat,lon,tol_m`` and optionally ``expect`` (located, home,
unknown, outside_area), ``category`` (the kind of place, e.g. the sample feeds' ground_truth.csv)
and ``department`` (ODS code of the receiving ED, used for the distance prior).

Prints: share of locatable texts located within tolerance (overall, by truth category and by our
match type), precision/recall of home and unknown, outside-area accuracy, home texts located
(must be 0), share right among confidence >= 0.9, and the baseline (rapidfuzz ``extractOne`` over
all gazetteer names) on a sample of the same rows.

    .venv/bin/python benchmarks/geocode_eval.py [--gt sample_feeds/geocode_dev.csv]
        [--home ISTVHUB_HOME] [--baseline-rows 300] [--fit-calibration]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from istvhub.geocode import Geocoder  # noqa: E402
from istvhub.geocode.calibrate import TABLE, Calibrator, isotonic_bins  # noqa: E402
from istvhub.geocode.normalise import normalise_text  # noqa: E402


def _haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371000.0 * 2 * np.arcsin(np.sqrt(a))


def load_geocoder(home: Path | None) -> Geocoder:
    """The gazetteer under ``home`` (or ISTVHUB_HOME); if none is built there, the test cache's,
    else build one from the default sources into a temporary directory (about a minute)."""
    from istvhub._errors import GazetteerNotBuilt

    try:
        return Geocoder.load(home)
    except GazetteerNotBuilt:
        if home is not None:
            raise
    cache = sorted(
        (REPO / "tests" / ".cache").glob("gazetteer-*/gazetteer/CURRENT"),
        key=lambda p: p.stat().st_mtime,
    )
    if cache:
        print(f"no gazetteer under ISTVHUB_HOME; using {cache[-1].parents[1]}")
        return Geocoder.load(cache[-1].parents[1])
    import tempfile

    from istvhub.gazetteer.build import build

    out = Path(tempfile.mkdtemp(prefix="istvhub-gaz-"))
    print(f"no gazetteer built: building one under {out} from the default sources")
    build(out=out / "gazetteer")
    return Geocoder.load(out)


def read_truth(path: Path) -> pd.DataFrame:
    gt = pd.read_csv(path, dtype={"text": str})
    gt["text"] = gt["text"].fillna("")
    if "expect" not in gt:
        cat = gt.get("category", pd.Series("located", index=gt.index)).fillna("located")
        gt["expect"] = np.where(cat.isin(["home", "unknown", "outside_area"]), cat, "located")
    if "category" not in gt:
        gt["category"] = gt["expect"]
    if "department" not in gt:
        gt["department"] = None
    return gt.reset_index(drop=True)


def correct_mask(gt: pd.DataFrame, res: pd.DataFrame) -> np.ndarray:
    """Right = located within tolerance for locatable rows; the same status otherwise."""
    d = _haversine_m(gt["lat"], gt["lon"], res["lat"], res["lon"])
    loc_ok = (res["geo_status"].to_numpy() == "located") & (d <= gt["tol_m"].to_numpy())
    same = res["geo_status"].to_numpy() == gt["expect"].to_numpy()
    return np.where(gt["expect"].to_numpy() == "located", loc_ok, same)


def baseline(gaz_entries: pd.DataFrame, texts: list[str]) -> pd.DataFrame:
    """Naive: best rapidfuzz WRatio over every gazetteer name; no classification, no priors."""
    from rapidfuzz import fuzz, process

    names = gaz_entries["key"].astype(str).to_numpy()
    out = []
    for t in texts:
        hit = process.extractOne(normalise_text(t), names, scorer=fuzz.WRatio, score_cutoff=60)
        if hit is None:
            out.append(("unmatched", np.nan, np.nan))
        else:
            r = gaz_entries.iloc[hit[2]]
            out.append(("located", r["lat"], r["lon"]))
    return pd.DataFrame(out, columns=["geo_status", "lat", "lon"])


def report(gt: pd.DataFrame, res: pd.DataFrame, label: str) -> dict:
    ok = correct_mask(gt, res)
    locatable = gt["expect"].eq("located").to_numpy()
    status = res["geo_status"].to_numpy()
    print(f"\n== {label}: {len(gt)} rows ==")
    share = ok[locatable].mean() if locatable.any() else float("nan")
    print(f"locatable within tolerance: {share:.1%} ({ok[locatable].sum()}/{locatable.sum()})")
    print(f"all rows right (located within tolerance, or the expected status): {ok.mean():.1%}")
    tab = pd.DataFrame(
        {
            "category": gt["category"],
            "ok": ok,
            "status": status,
            "match_type": res.get("match_type"),
        }
    )
    by = tab[locatable].groupby("category")["ok"].agg(["mean", "size"])
    print("by truth category:\n" + by.to_string(float_format=lambda v: f"{v:.1%}"))
    if "match_type" in res and res["match_type"].notna().any():
        by2 = (
            tab[locatable & (status == "located")].groupby("match_type")["ok"].agg(["mean", "size"])
        )
        print(
            "by our match type (located rows):\n" + by2.to_string(float_format=lambda v: f"{v:.1%}")
        )
    st = tab[locatable]["status"].value_counts()
    print("status of locatable rows: " + ", ".join(f"{k} {v}" for k, v in st.items()))
    for cls in ("home", "unknown", "outside_area"):
        exp = gt["expect"].eq(cls).to_numpy()
        got = status == cls
        if exp.any() or got.any():
            prec = (exp & got).sum() / max(got.sum(), 1)
            rec = (exp & got).sum() / max(exp.sum(), 1)
            print(
                f"{cls}: precision {prec:.1%} recall {rec:.1%} (expected {exp.sum()}, "
                f"got {got.sum()})"
            )
    hu = gt["expect"].isin(["home", "unknown"]).to_numpy()
    if hu.any():
        print(f"home/unknown classified so: {np.isin(status[hu], ['home', 'unknown']).mean():.1%}")
    home_located = int((gt["expect"].eq("home").to_numpy() & (status == "located")).sum())
    print(f"home texts located: {home_located}")
    if "confidence" in res:
        hi = res["confidence"].fillna(0).to_numpy() >= 0.9
        if hi.any():
            print(f"confidence >= 0.9: {hi.sum()} rows, {ok[hi].mean():.1%} right")
    return {"locatable_share": share, "ok": ok}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gt", type=Path, default=REPO / "sample_feeds" / "geocode_dev.csv")
    ap.add_argument("--home", type=Path, default=None, help="ISTVHUB_HOME with a gazetteer")
    ap.add_argument("--baseline-rows", type=int, default=300)
    ap.add_argument(
        "--fit-calibration",
        action="store_true",
        help=f"fit gazetteer/{TABLE} on this ground truth (raw scores, isotonic)",
    )
    ap.add_argument("--show-misses", type=int, default=0)
    args = ap.parse_args()

    gt = read_truth(args.gt)
    t0 = time.perf_counter()
    geo = load_geocoder(args.home)
    print(f"gazetteer {geo.version}: loaded in {time.perf_counter() - t0:.1f} s")
    if args.fit_calibration:
        geo.calibrator = Calibrator()  # identity: confidence = raw score
    t0 = time.perf_counter()
    res = geo.geocode_frame(gt, text_col="text", department_col="department")
    dt = time.perf_counter() - t0
    print(f"geocoded {len(gt)} rows in {dt:.1f} s ({len(gt) / dt:,.0f} rows/s)")
    out = report(gt, res, "geocoder")

    if args.fit_calibration:

        def fit(mask: np.ndarray) -> pd.DataFrame:
            loc = res["geo_status"].eq("located").to_numpy() & mask
            rows = []
            for mt, g in res[loc].groupby("match_type"):
                b = isotonic_bins(g["confidence"].to_numpy(), out["ok"][g.index.to_numpy()])
                rows.append(b.assign(match_type=mt))
            allb = isotonic_bins(res.loc[loc, "confidence"].to_numpy(), out["ok"][loc])
            rows.append(allb.assign(match_type="*"))
            return pd.concat(rows)[["match_type", "raw_lo", "raw_hi", "confidence", "n"]]

        # honesty check: fit on even rows, judge on odd rows
        even = (np.arange(len(gt)) % 2) == 0
        half = Calibrator(
            {
                k: g.sort_values("raw_lo").reset_index(drop=True)
                for k, g in fit(even).groupby("match_type")
            }
        )
        conf = np.array(
            [
                half.calibrate(mt, c) if st == "located" else c
                for mt, c, st in zip(
                    res["match_type"], res["confidence"].fillna(0), res["geo_status"], strict=True
                )
            ]
        )
        hi = (conf >= 0.9) & ~even
        print(
            f"\ncalibration fitted on even rows, judged on odd rows: confidence >= 0.9 on "
            f"{hi.sum()} rows, {out['ok'][hi].mean():.1%} right"
        )
        table = fit(np.ones(len(gt), dtype=bool))
        path = REPO / "gazetteer" / TABLE
        table.to_csv(path, index=False)
        print(f"wrote {path} ({len(table)} bins)")
        geo.calibrator = Calibrator.load(path)
        geo._cache.clear()
        res = geo.geocode_frame(gt, text_col="text", department_col="department")
        out = report(gt, res, "geocoder, calibrated")

    if args.show_misses:
        bad = gt[gt["expect"].eq("located") & ~out["ok"]].copy()
        bad = bad.join(res[["geo_status", "match_type", "reason"]])
        d = _haversine_m(
            bad["lat"], bad["lon"], res.loc[bad.index, "lat"], res.loc[bad.index, "lon"]
        )
        bad["err_m"] = np.round(d)
        pd.set_option("display.width", 250)
        pd.set_option("display.max_colwidth", 90)
        print(
            bad.sample(min(args.show_misses, len(bad)), random_state=0)[
                ["text", "category", "tol_m", "geo_status", "err_m", "reason"]
            ].to_string()
        )

    n = min(args.baseline_rows, len(gt))
    if n <= 0:
        print("\nbaseline skipped (--baseline-rows 0)")
        return
    sample = gt.sample(n, random_state=0).reset_index(drop=True)
    t0 = time.perf_counter()
    base = baseline(geo.index.entries, sample["text"].tolist())
    bdt = time.perf_counter() - t0
    geo._cache.clear()
    ours = geo.geocode_frame(sample, text_col="text", department_col="department")
    b = report(sample, base, f"baseline (rapidfuzz extractOne, {n} sampled rows)")
    o = report(sample, ours, f"geocoder on the same {n} rows")
    print(f"\nbaseline speed: {n / bdt:,.1f} rows/s")
    print(
        f"geocoder - baseline on locatable rows: "
        f"{(o['locatable_share'] - b['locatable_share']) * 100:+.1f} points; on all rows: "
        f"{(o['ok'].mean() - b['ok'].mean()) * 100:+.1f} points"
    )


if __name__ == "__main__":
    main()
