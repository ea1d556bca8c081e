"""Confidence = the probability that an answer is right, learnt from texts it was not tuned on.

The decide stage gives every located answer a raw score; on its own that score did not separate
right from wrong (right and wrong answers both carried 0.97). The calibrator adds what the raw
score ignores about the *text*: how many of its words the answer leaves unexplained (narrative
read as a place), how many words were spelling-corrected, whether the name matched without its
type word, among how many same-name places it was chosen, whether the context agreed. A
logistic model over those features, fitted offline by ``benchmarks/geocode_eval.py
--fit-calibration`` on the noise families (judged leave-one-family-out), gives the probability.
Home, unknown and outside-area answers get the share of such answers that were right.

The parameters live in ``data/geocode_calibration.json`` (package data). At run time it is one
dot product per distinct text. Without the file the raw score is passed through. The model is
monotone in the raw score (its weight is constrained >= 0) and bounded by [FLOOR, CAP].
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from istvhub.core.config import DATA_DIR

if TYPE_CHECKING:
    from istvhub.geocode.explain import Loc

log = logging.getLogger(__name__)

PARAMS = DATA_DIR / "geocode_calibration.json"
CAP = 0.99  # never claim certainty
FLOOR = 0.01
#: the statuses whose confidence is a fitted constant (located answers use the model)
CLASS_STATUSES = ("home", "unknown", "outside_area")
MATCH_TYPES = (
    "postcode",
    "postcode_sector",
    "postcode_district",
    "junction",
    "station",
    "venue",
    "street",
    "area",
)
FEATURES = (
    "bias",
    "logit_raw",
    *(f"type_{t}" for t in MATCH_TYPES),
    "unexplained_words",
    "unexplained_share",
    "corrected_words",
    "short_corrected",
    "name_exact",
    "spelling_corrected",
    "core_match",
    "same_name_choice",
    "nearest_department",
    "area_by_station",
    "context_hits",
    "context_miss",
    "precision_over_tolerance",
    "name_commonness",
    "corrected_and_unexplained",
    "street_reach",
)
#: how far off an answer of each type may be and still count as right (the dev ground truth's
#: tolerances): an answer whose own error radius exceeds it is less likely to be right
TOLERANCE_M = {
    "postcode": 100.0,
    "venue": 150.0,
    "station": 150.0,
    "junction": 150.0,
    "street": 500.0,
    "area": 1500.0,
    "postcode_sector": 1000.0,
    "postcode_district": 2000.0,
}
#: words that carry no place: connectors, ED shorthand for "outside", "near"
_FILLER = frozenset(
    "o/s opp nr outside opposite near adjacent by at in on of the a an to from junction jct j/w "
    "jw with corner and or & between behind next front rear top end entrance inside off "
    "shops shop / , - + x".split()
)
#: cue words explained only by an answer of their kind ("bus/coach station" is no venue)
_STATION_WORDS = frozenset("station stn tube dlr rail overground underground".split())
_STOP_WORDS = frozenset("bus stop".split())
#: type words that say what kind of place a name is, not which one
_TYPE_WORDS = frozenset(
    "the road street lane avenue place square crescent close court drive grove hill terrace walk "
    "way row mews rise vale yard wharf gardens park green station arms inn tavern bar pub club "
    "cafe restaurant house hall centre high".split()
)
#: features the logistic fit does not weigh. The street's reach enters as a factor instead:
#: the dev and family truths sit at the street's own point, so a fit on them never sees a
#: long street's scene 1 km along it (police.uk's snap points do: at confidence >= 0.9, street
#: answers reaching 1-1.5 km were within 500 m of the point 62% of the time, 1.5-3 km 0%).
#: Assuming the scene is anywhere along the street, P(within tolerance | right street) is
#: about tolerance / reach.
UNFITTED = ("street_reach",)
_REACH = FEATURES.index("street_reach")
_RAW = FEATURES.index("logit_raw")
_TYPES = slice(
    FEATURES.index(f"type_{MATCH_TYPES[0]}"), FEATURES.index(f"type_{MATCH_TYPES[-1]}") + 1
)
_POSTCODEISH = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$|^\d[a-z]{2}$|^\d+[a-z]?$")
_WORD = re.compile(r"[a-z0-9']+")


def _name_tokens(*names: str) -> set[str]:
    out: set[str] = set()
    for n in names:
        out.update(_WORD.findall(n.lower()))
    return out


@lru_cache(maxsize=1)
def _english() -> dict[str, float]:
    """wordfreq's small English list (words used at least once per million; ~0.05 s)."""
    from wordfreq import get_frequency_dict

    return dict(get_frequency_dict("en", wordlist="small"))


def commonness(name: str) -> float:
    """How ordinary an English word the name's least common distinctive word is (zipf / 7;
    0 when some word is rarer than once per million): "The Space", "Coach" score high,
    "Peckham", "Edmund Halley" low. A name made of ordinary words is easily a false hit."""
    words = [w for w in _WORD.findall(name.lower()) if w not in _TYPE_WORDS and len(w) > 2]
    if not words:
        return 0.0
    en = _english()
    return min(math.log10(en[w]) + 9.0 if w in en else 0.0 for w in words) / 7.0


def street_reach(loc: Loc) -> float:
    """How many times the street tolerance a street answer's street reaches beyond it (log2,
    0 within tolerance): a 2 km road answered at one point is less often within 500 m of the
    scene than a 300 m close, which the postcode spread in ``precision`` does not always show.
    Not weighed by the fit (``UNFITTED``): ``apply_features`` multiplies by ``2 ** -reach``."""
    if loc.match_type != "street" or loc.extent <= 0:
        return 0.0
    return max(0.0, math.log2(max(loc.extent, loc.precision) / TOLERANCE_M["street"]))


def features(loc: Loc, tokens: list[str], corrected: list[str]) -> np.ndarray:
    """The feature vector of one located answer (``loc`` is an explain.Loc)."""
    raw = min(max(float(loc.raw), 1e-3), 1 - 1e-3)
    explained = _name_tokens(loc.name, *loc.ctx_hits)
    if loc.match_type in ("station", "area") or "station" in loc.reason:
        explained |= _STATION_WORDS
    if "bus" in loc.reason.lower() or "stop" in loc.reason.lower():
        explained |= _STOP_WORDS
    content = [
        (t, c)
        for t, c in zip(tokens, corrected, strict=True)
        if c not in _FILLER and t not in _FILLER and not _POSTCODEISH.match(c)
    ]
    unexplained = [c for t, c in content if c not in explained and t not in explained]
    name = _name_tokens(loc.name)
    reason = loc.reason
    f = [
        1.0,
        math.log(raw / (1 - raw)),
        *(1.0 if loc.match_type == t else 0.0 for t in MATCH_TYPES),
        float(min(len(unexplained), 6)),
        len(unexplained) / max(len(content), 1),
        float(min(sum(c != t for t, c in zip(tokens, corrected, strict=True)), 3)),
        float(sum(c != t and len(t) <= 5 for t, c in zip(tokens, corrected, strict=True))),
        float(bool(name) and name <= set(tokens)),
        float("spelling corrected" in reason),
        float("without its type word" in reason),
        float("same-name places" in reason),
        float("nearest the department" in reason),
        float("area named by its station" in reason),
        float(min(len(loc.ctx_hits), 2)),
        float(bool(loc.ctx_misses)),
        math.log2(max(float(loc.precision), 10.0) / TOLERANCE_M.get(loc.match_type, 1500.0)),
        commonness(loc.name),
        float("spelling corrected" in reason) * min(len(unexplained), 3),
        street_reach(loc),
    ]
    return np.asarray(f, dtype=float)


@dataclass
class Calibrator:
    """Applies the fitted model; with no weights, confidence = raw score (identity).
    ``record`` (a dict), when given, collects each text's features for offline fitting."""

    weights: np.ndarray | None = None
    status: dict[str, float] = field(default_factory=dict)
    record: dict[str, np.ndarray] | None = None
    raw_floor: dict[str, float] = field(default_factory=dict)
    record_caps: dict[str, float] | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> Calibrator:
        p = path or PARAMS
        if not p.exists():
            return cls()
        d = json.loads(p.read_text())
        if tuple(d.get("features", ())) != FEATURES:
            log.warning("calibration parameters are for other features; confidence = raw score")
            return cls()
        return cls(
            np.asarray(d["weights"], dtype=float),
            dict(d.get("status", {})),
            raw_floor=dict(d.get("raw_floor", {})),
        )

    def confidence(self, loc: Loc, tokens: list[str], corrected: list[str]) -> float:
        """P(right), never above the cap of a risk the text shows against the answer
        (``risks.py``: a contradicted type word, a name cut short, a department's guess)."""
        from istvhub.geocode.risks import answer_risks, risk_cap

        cap = risk_cap(answer_risks(loc, tokens, corrected))
        if self.record_caps is not None:
            self.record_caps[" ".join(tokens)] = cap
        if self.weights is None and self.record is None:
            return min(float(min(max(loc.raw, 0.0), 1.0)), cap)
        x = features(loc, tokens, corrected)
        if self.record is not None:
            self.record[" ".join(tokens)] = x
        if self.weights is None:
            return min(float(min(max(loc.raw, 0.0), 1.0)), cap)
        return min(self.apply_features(x), cap)

    def apply_features(self, x: np.ndarray) -> float:
        assert self.weights is not None
        p = apply(self.weights, x)
        raw = 1.0 / (1.0 + math.exp(-float(x[_RAW])))
        hot = np.flatnonzero(x[_TYPES] == 1)
        mt = MATCH_TYPES[int(hot[0])] if len(hot) else ""
        if raw < self.raw_floor.get(mt, 0.0):
            # a raw score below anything the fit saw for this type: the decide stage flagged a
            # risk the evaluation texts never showed, so claim no more than the raw score
            p = min(p, max(raw, FLOOR))
        return float(max(p * 2.0 ** -float(x[_REACH]), FLOOR))

    def status_confidence(self, status: str, default: float) -> float:
        return float(self.status.get(status, default))


def apply(weights: np.ndarray, x: np.ndarray) -> float:
    z = float(np.dot(weights, x))
    p = 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
    return min(max(p, FLOOR), CAP)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> np.ndarray:
    """L2-penalised logistic regression by Newton's method (the bias is not penalised); the
    raw-score weight is held >= 0 so confidence never falls as the raw score rises."""
    n, k = x.shape
    active = np.ones(k, dtype=bool)
    active[x.std(axis=0) == 0] = False
    active[0] = True
    active[[FEATURES.index(f) for f in UNFITTED if f in FEATURES and k == len(FEATURES)]] = False
    raw_col = FEATURES.index("logit_raw")
    for _ in range(2):
        w = np.zeros(k)
        xa = x[:, active]
        pen = np.full(active.sum(), l2)
        pen[0] = 0.0
        wa = np.zeros(active.sum())
        for _ in range(iters):
            p = 1.0 / (1.0 + np.exp(-np.clip(xa @ wa, -30, 30)))
            g = xa.T @ (p - y) + pen * wa
            h = (xa * (p * (1 - p))[:, None]).T @ xa + np.diag(pen + 1e-9)
            step = np.linalg.solve(h, g)
            wa -= step
            if np.abs(step).max() < 1e-8:
                break
        w[active] = wa
        if w[raw_col] >= 0:
            return w
        active[raw_col] = False  # a negative slope would break monotonicity: drop the term
    return w


def fit(
    rows: list[np.ndarray], right: np.ndarray, status_right: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    """Parameters from located answers' features and rightness, and per class status
    (right, total) counts; class confidences shrunk towards 0.5 by 10 pseudo-rows; per match
    type the 1st percentile of the raw scores seen (below it the model is extrapolating)."""
    x = np.vstack(rows)
    w = fit_logistic(x, np.asarray(right, dtype=float))
    status = {s: round(min((r + 5.0) / (n + 10.0), CAP), 4) for s, (r, n) in status_right.items()}
    raw = 1 / (1 + np.exp(-x[:, _RAW]))
    floor = {}
    for t in MATCH_TYPES:
        m = x[:, FEATURES.index(f"type_{t}")] == 1
        if m.sum() >= 20:
            floor[t] = round(float(np.quantile(raw[m], 0.01)), 4)
    return {
        "features": list(FEATURES),
        "weights": [round(float(v), 6) for v in w],
        "status": status,
        "raw_floor": floor,
    }


def save(params: dict[str, Any], path: Path | None = None, note: str = "") -> Path:
    p = path or PARAMS
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps({**params, "note": note}, indent=1) + "\n")
    tmp.replace(p)
    return p
