"""Confidence calibration: raw match scores -> the share of such matches that are right.

The table ``data/gazetteer/geocode_calibration.csv`` (match_type, raw_lo, raw_hi, confidence, n) is
fitted by ``benchmarks/geocode_eval.py --fit-calibration`` on the development ground truth with
pooled-adjacent-violators (isotonic) bins, and kept as data. Without the table the raw score is
passed through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub.core.config import GAZETTEER_TABLES_DIR

TABLE = "geocode_calibration.csv"
#: pseudo-observations at PRIOR_P added to every bin, and the highest confidence ever claimed
PRIOR_N = 10.0
PRIOR_P = 0.7
CAP = 0.97


@dataclass
class Calibrator:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> Calibrator:
        p = path or GAZETTEER_TABLES_DIR / TABLE
        if not p.exists():
            return cls()
        t = pd.read_csv(p)
        return cls(
            {k: g.sort_values("raw_lo").reset_index(drop=True) for k, g in t.groupby("match_type")}
        )

    def calibrate(self, match_type: str, raw: float) -> float:
        t = self.tables.get(match_type)
        if t is None or t.empty:
            t = self.tables.get("*")
        if t is None or t.empty:
            return float(raw)
        if raw < float(t["raw_lo"].iat[0]) - 0.01:
            # below anything seen in development: never claim the lowest bin's confidence
            return float(min(raw, t["confidence"].iat[0]))
        i = int(np.searchsorted(t["raw_hi"].to_numpy(), raw, side="left"))
        i = min(max(i, 0), len(t) - 1)
        return float(t["confidence"].iat[i])


def isotonic_bins(raw: np.ndarray, ok: np.ndarray) -> pd.DataFrame:
    """Pool-adjacent-violators on (raw, correct): non-decreasing bins of raw score with their
    observed share correct (shrunk a little towards 0.5 so tiny bins never claim certainty)."""
    order = np.argsort(raw, kind="stable")
    r, y = raw[order], ok[order].astype(float)
    blocks = [[float(r[i]), float(r[i]), float(y[i]), 1.0] for i in range(len(r))]
    out: list[list[float]] = []
    for b in blocks:
        out.append(b)
        while len(out) > 1 and out[-2][2] / out[-2][3] >= out[-1][2] / out[-1][3]:
            lo, _, s, n = out[-2]
            _, hi, s2, n2 = out.pop()
            out[-1] = [lo, hi, s + s2, n + n2]
    rows = []
    for lo, hi, s, n in out:
        # shrink towards a modest prior (small bins never claim certainty) and cap: the
        # development labels come from one generator, real extracts will be messier
        conf = min((s + PRIOR_N * PRIOR_P) / (n + PRIOR_N), CAP)
        rows.append({"raw_lo": lo, "raw_hi": hi, "confidence": conf, "n": int(n)})
    df = pd.DataFrame(rows)
    if len(df):
        df["confidence"] = np.maximum.accumulate(df["confidence"].to_numpy()).round(3)
        df.loc[df.index[-1], "raw_hi"] = 1.0
    return df
