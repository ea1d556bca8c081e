"""Geocode evaluation sets once and keep each located answer's calibration features, so the
calibration can be refitted on any subset of sets (leave-one-family-out) without geocoding
again. Shared by ``benchmarks/geocode_eval.py`` and the calibration tests."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from istvhub.geocode import calibrate as cal
from istvhub.geocode.evaluation import metrics as M
from istvhub.geocode.evaluation.extent import along_street_m
from istvhub.geocode.normalise import normalise_text
from istvhub.geocode.pii import scrub_location

if TYPE_CHECKING:
    from istvhub.geocode.geocoder import Geocoder


class Run:
    """Geocode each set once, keeping each located answer's calibration features."""

    def __init__(self, geo: Geocoder, verbose: bool = True) -> None:
        self.geo = geo
        self.features: dict[str, np.ndarray] = {}
        self.caps: dict[str, float] = {}  # the risk cap of each located text (risks.py)
        shipped = cal.Calibrator.load()
        geo.calibrator = cal.Calibrator(
            shipped.weights,
            shipped.status,
            record=self.features,
            raw_floor=shipped.raw_floor,
            record_caps=self.caps,
        )
        geo._cache.clear()
        self.verbose = verbose
        self.sets: dict[str, tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = {}

    def add(self, name: str, gt: pd.DataFrame) -> None:
        t0 = time.perf_counter()
        res = self.geo.geocode_frame(gt, text_col="text", department_col="department")
        res["_along_m"] = along_street_m(self.geo.index, gt, res)
        dt = time.perf_counter() - t0
        if self.verbose:
            print(f"  {name}: {len(gt):,} texts in {dt:.1f} s")
        self.sets[name] = (gt, res, M.correct_mask(gt, res))

    def xy(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Feature rows (NaN for rows that are no located answer) and the geocoder's status."""
        gt, res, _ = self.sets[name]
        x = np.full((len(gt), len(cal.FEATURES)), np.nan)
        status = res["geo_status"].to_numpy()
        for k, (t, st) in enumerate(zip(gt["text"], status, strict=True)):
            if st == "located":
                f = self.features.get(normalise_text(scrub_location(str(t))[0]))
                if f is not None:
                    x[k] = f
        return x, status

    def caps_of(self, name: str) -> np.ndarray:
        """Per row, the risk cap on its confidence (1.0 where none or not located)."""
        gt, res, _ = self.sets[name]
        return np.array(
            [
                self.caps.get(normalise_text(scrub_location(str(t))[0]), 1.0)
                if st == "located"
                else 1.0
                for t, st in zip(gt["text"], res["geo_status"], strict=True)
            ]
        )

    def fit(self, names: list[str]) -> dict[str, Any]:
        rows, right, status_counts = [], [], {s: [0, 0] for s in cal.CLASS_STATUSES}
        for n in names:
            x, status = self.xy(n)
            ok = self.sets[n][2]
            m = ~np.isnan(x[:, 0])
            rows.append(x[m])
            right.append(ok[m])
            for s in cal.CLASS_STATUSES:
                status_counts[s][0] += int(ok[status == s].sum())
                status_counts[s][1] += int((status == s).sum())
        return cal.fit(
            list(np.vstack(rows)),
            np.concatenate(right),
            {s: (r, n) for s, (r, n) in status_counts.items() if n},
        )

    def confidence(self, name: str, params: dict[str, Any] | None) -> np.ndarray:
        """Confidence of every row under ``params`` (None: the raw score, uncalibrated)."""
        gt, res, _ = self.sets[name]
        x, status = self.xy(name)
        conf = res["confidence"].to_numpy(dtype=float).copy()
        m = ~np.isnan(x[:, 0])
        if params is None:
            raw_logit = x[m, cal.FEATURES.index("logit_raw")]
            conf[m] = 1 / (1 + np.exp(-raw_logit))
            conf[np.isin(status, cal.CLASS_STATUSES)] = 0.95  # what stages.py gave them before
            return conf
        c = cal.Calibrator(
            np.asarray(params["weights"], dtype=float), raw_floor=params.get("raw_floor", {})
        )
        conf[m] = [c.apply_features(r) for r in x[m]]
        conf[m] = np.minimum(conf[m], self.caps_of(name)[m])
        for s, c in params["status"].items():
            conf[status == s] = c
        return conf
