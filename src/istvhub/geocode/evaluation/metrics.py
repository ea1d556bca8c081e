"""Scores of geocoder results against ground truth (``text, lat, lon, tol_m, expect``).

Right = located within tolerance for a locatable text, the expected status otherwise. The
confidence is judged as a probability of being right: reliability table (confidence bins against
the share right), expected calibration error, Brier score, and precision at each recall as
uk_address_matcher reports it (answers sorted by confidence; recall = right answers / locatable
texts, precision = right answers / answers given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0001)
NON_LOCATABLE = ("home", "unknown", "outside_area")


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return np.asarray(6371000.0 * 2 * np.arcsin(np.sqrt(a)))


def correct_mask(gt: pd.DataFrame, res: pd.DataFrame) -> np.ndarray:
    """Right = located within tolerance for locatable rows; the same status otherwise. A street
    answer is also right when the truth lies along the street: within ``extent.ALONG_M`` of one
    of its known points (``res["_along_m"]``, added by the runner; ``extent.py``)."""
    from istvhub.geocode.evaluation.extent import ALONG_M

    d = haversine_m(gt["lat"], gt["lon"], res["lat"], res["lon"])
    status = res["geo_status"].to_numpy()
    tol = gt["tol_m"].to_numpy(dtype=float)
    loc_ok = (status == "located") & (d <= tol)
    if "_along_m" in res:
        along = np.nan_to_num(res["_along_m"].to_numpy(dtype=float), nan=np.inf)
        loc_ok |= (status == "located") & (along <= np.minimum(tol, ALONG_M))
    same = status == gt["expect"].to_numpy()
    return np.asarray(np.where(gt["expect"].to_numpy() == "located", loc_ok, same))


@dataclass
class Scores:
    n: int
    locatable: int
    located_ok: float  # share of locatable texts located within tolerance
    home_p: float
    home_r: float
    unknown_p: float
    unknown_r: float
    nonloc_located: int  # home/unknown/outside-area texts given a point (must be 0)
    hi_n: int  # answers with confidence >= 0.9
    hi_right: float  # share of those that are right
    ece: float
    brier: float


def _pr(exp: np.ndarray, got: np.ndarray) -> tuple[float, float]:
    tp = int((exp & got).sum())
    p = tp / got.sum() if got.any() else float("nan")
    r = tp / exp.sum() if exp.any() else float("nan")
    return p, r


def ece_brier(conf: np.ndarray, ok: np.ndarray) -> tuple[float, float]:
    """Expected calibration error over BINS and the Brier score."""
    conf = np.nan_to_num(np.asarray(conf, dtype=float))
    y = np.asarray(ok, dtype=float)
    if not len(y):
        return float("nan"), float("nan")
    idx = np.digitize(conf, BINS[1:-1])
    ece = sum(
        abs(conf[idx == b].mean() - y[idx == b].mean()) * (idx == b).sum() for b in np.unique(idx)
    ) / len(y)
    return float(ece), float(np.mean((conf - y) ** 2))


def score(gt: pd.DataFrame, res: pd.DataFrame, conf: np.ndarray | None = None) -> Scores:
    ok = correct_mask(gt, res)
    exp = gt["expect"].to_numpy()
    status = res["geo_status"].to_numpy()
    c = res["confidence"].to_numpy(dtype=float) if conf is None else conf
    c = np.nan_to_num(c)
    loc = exp == "located"
    hp, hr = _pr(exp == "home", status == "home")
    up, ur = _pr(exp == "unknown", status == "unknown")
    hi = c >= 0.9
    ece, brier = ece_brier(c, ok)
    return Scores(
        n=len(gt),
        locatable=int(loc.sum()),
        located_ok=float(ok[loc].mean()) if loc.any() else float("nan"),
        home_p=hp,
        home_r=hr,
        unknown_p=up,
        unknown_r=ur,
        nonloc_located=int((np.isin(exp, NON_LOCATABLE) & (status == "located")).sum()),
        hi_n=int(hi.sum()),
        hi_right=float(ok[hi].mean()) if hi.any() else float("nan"),
        ece=ece,
        brier=brier,
    )


def reliability(conf: np.ndarray, ok: np.ndarray) -> pd.DataFrame:
    """Per confidence bin: rows, mean confidence, share right."""
    conf = np.nan_to_num(np.asarray(conf, dtype=float))
    idx = np.digitize(conf, BINS[1:-1])
    rows = []
    for b in range(len(BINS) - 1):
        m = idx == b
        rows.append(
            {
                "confidence": f"{BINS[b]:.2f}-{min(BINS[b + 1], 1.0):.2f}",
                "rows": int(m.sum()),
                "mean_conf": float(conf[m].mean()) if m.any() else float("nan"),
                "right": float(np.mean(ok[m])) if m.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def precision_recall(
    conf: np.ndarray, ok: np.ndarray, answered: np.ndarray, locatable: int
) -> pd.DataFrame:
    """Precision at each recall: answers (located rows) sorted by confidence, best first."""
    conf = np.nan_to_num(np.asarray(conf, dtype=float))
    a = np.flatnonzero(answered)
    order = a[np.argsort(-conf[a], kind="stable")]
    right = np.cumsum(ok[order].astype(float))
    given = np.arange(1, len(order) + 1)
    prec = right / given
    rec = right / max(locatable, 1)
    rows = []
    for target in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98):
        k = np.flatnonzero(rec >= target)
        if len(k):
            i = int(k[0])
            rows.append(
                {
                    "recall": target,
                    "precision": float(prec[i]),
                    "threshold": float(conf[order[i]]),
                }
            )
        else:
            rows.append({"recall": target, "precision": float("nan"), "threshold": float("nan")})
    if len(order):
        rows.append({"recall": float(rec[-1]), "precision": float(prec[-1]), "threshold": 0.0})
    return pd.DataFrame(rows)
