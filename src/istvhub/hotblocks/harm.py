"""Harm-weighted, time-decayed scores alongside the plain hot-block counts (docs/HARM.md).

Each incident weighs its weapon's severity (``istvhub/data/harm_weights.toml``, a table in the
spirit of the Cambridge Crime Harm Index) times a decay for its age at the ``as_of`` month: a third
less for every *full* 12 months (stepwise, as the Met's Violence Harm Assessment decays crime-report
scores): 0-11 months x1, 12-23 months x2/3, 24-35 months x4/9. Ages are counted in whole months
from the incident's month (incident date where recorded, else arrival date) to ``as_of``.

The scores are ADDED to the layers as ``harm_score`` and never replace ``count``. The same
disclosure rule applies: a score is withheld (null) wherever the unit's count is suppressed, and
published scores are rounded to the rule's rounding base (a plain-count table scored with weight 1
would otherwise give back exact counts).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from istvhub._errors import HotblocksError
from istvhub.core import periods
from istvhub.core.config import DATA_DIR
from istvhub.core.periods import is_period
from istvhub.records import WEAPONS

if TYPE_CHECKING:  # types only: at run time these load lazily, inside the functions below
    import geopandas as gpd

    from istvhub.disclosure.rules import DisclosureRule
    from istvhub.hotblocks.aggregate import Filters, Layers
    from istvhub.hotblocks.assign import BlockIndex
    from istvhub.hotblocks.service import NetworkInputs

HARM_FILE = DATA_DIR / "harm_weights.toml"


class HarmError(HotblocksError):
    """The harm table or the ``--as-of`` option is malformed (names the file/option, never data)."""


@dataclass(frozen=True)
class HarmTable:
    """Weapon weights and the stepwise decay."""

    name: str
    weights: dict[str, float]
    factor: float = 2.0 / 3.0
    period_months: int = 12

    def decay(self, age_months: np.ndarray) -> np.ndarray:
        """factor ** (full periods elapsed); ages below 0 (after as_of) count as 0."""
        age = np.clip(np.asarray(age_months, dtype="float64"), 0, None)
        steps = np.floor(age / self.period_months)
        factors: np.ndarray = np.power(self.factor, steps)
        return factors


def load_harm_table(path: Path | None = None) -> HarmTable:
    """The harm table from TOML; every weapon code must have a positive weight."""
    p = Path(path) if path else HARM_FILE
    with p.open("rb") as fh:
        data = tomllib.load(fh)
    w = {str(k): float(v) for k, v in data.get("weights", {}).items()}
    missing = [c for c in WEAPONS if c not in w]
    if missing or any(v <= 0 for v in w.values()):
        raise HarmError(
            f"file {p.name!r}: section 'weights' needs a positive weight for every "
            f"weapon code ({', '.join(WEAPONS)})"
        )
    dec = data.get("decay", {})
    factor = float(dec.get("factor", 2.0 / 3.0))
    period = int(dec.get("period_months", 12))
    if not (0 < factor <= 1) or period < 1:
        raise HarmError(f"file {p.name!r}: section 'decay' needs 0 < factor <= 1, period >= 1")
    return HarmTable(
        name=str(data.get("name", p.stem)), weights=w, factor=factor, period_months=period
    )


def month_index(ym: str, option: str = "--as-of") -> int:
    """``YYYY-MM`` -> months since year 0 (for whole-month differences)."""
    if not is_period(ym):
        raise HarmError(f"option {option}: expected YYYY-MM")
    return periods.month_index(ym)


def incident_months(records: pd.DataFrame) -> np.ndarray:
    """Month index of each record: incident date where recorded, else arrival, else period."""
    n = len(records)
    empty = pd.Series([None] * n, index=records.index, dtype="object")
    inc = pd.to_datetime(records.get("incident_date", empty), errors="coerce")
    arr = pd.to_datetime(records.get("arrival_at", empty), errors="coerce")
    when = inc.where(inc.notna(), arr)
    idx = (when.dt.year * 12 + when.dt.month - 1).astype("float64")
    per = records.get("period", empty).astype("string")
    py = pd.to_numeric(per.str.slice(0, 4), errors="coerce")
    pm = pd.to_numeric(per.str.slice(5, 7), errors="coerce")
    return idx.fillna(py * 12 + pm - 1).to_numpy(dtype="float64")


def record_harm(records: pd.DataFrame, as_of: str, table: HarmTable | None = None) -> pd.Series:
    """Severity x decay per record (same index). Unknown weapon codes weigh as ``unknown``."""
    t = table or load_harm_table()
    ref = month_index(as_of)
    weapon = records.get("weapon", pd.Series([None] * len(records), index=records.index))
    sev = weapon.map(t.weights).astype("float64").fillna(t.weights["unknown"]).to_numpy()
    age = ref - incident_months(records)
    age = np.where(np.isfinite(age), age, 0.0)
    return pd.Series(sev * t.decay(age), index=records.index, name="harm")


def protect_scores(scores: pd.Series, suppressed: pd.Series, rule: DisclosureRule) -> pd.Series:
    """Round scores to the rule's base; null wherever the unit's count is suppressed."""
    s = pd.to_numeric(scores, errors="coerce").fillna(0.0).to_numpy(dtype="float64")
    out = np.round(s, 2) if rule.raw else np.floor(s / rule.round_to + 0.5) * rule.round_to
    out = np.where(np.asarray(suppressed, dtype=bool), np.nan, out)
    return pd.Series(out, index=scores.index, dtype="float64")


def add_harm(
    layers: Layers,
    records: pd.DataFrame,
    index: BlockIndex | gpd.GeoDataFrame,
    filters: Filters,
    *,
    as_of: str,
    lsoas: gpd.GeoDataFrame | None = None,
    table: HarmTable | None = None,
) -> Layers:
    """Add ``harm_score`` to the blocks, hexes and LSOAs of ``layers`` (built by
    ``build_layers`` from the same ``records`` and ``filters``) and harm rows to the summary."""
    from dataclasses import replace

    from istvhub.disclosure.cellkey import cell_keys, perturb, with_record_keys
    from istvhub.hotblocks.aggregate import filter_records
    from istvhub.hotblocks.assign import assign

    t = table or load_harm_table()
    if "record_key" not in records.columns:
        records = with_record_keys(records)
    # the listed units count every record in them whatever the borough filter (hotblocks.scope)
    kept, _ = filter_records(records, replace(filters, boroughs=()))
    h = record_harm(kept, as_of, t)
    rk = kept["record_key"].astype("int64")
    a = assign(kept, index, lsoas)
    rule = layers.rule

    bl = a.blocks.assign(
        h=h.reindex(a.blocks["record"]).to_numpy() * a.blocks["weight"],
        k=rk.reindex(a.blocks["record"]).to_numpy(),
        block_id=a.blocks["block_id"].astype(str),
    )
    per_unit = {"blocks": bl.groupby("block_id").agg(h=("h", "sum"), n=("weight", "sum"))}
    per_unit["blocks"]["ck"] = cell_keys(bl["k"], bl["block_id"])
    for name, col in (("hexes", f"hex_{filters.h3_res}"), ("lsoas", "lsoa_code")):
        u = pd.DataFrame({"u": a.records[col].astype("object"), "h": h, "k": rk}).dropna(
            subset=["u"]
        )
        u["u"] = u["u"].astype(str)
        g = u.groupby("u").agg(h=("h", "sum"), n=("h", "size"))
        g["ck"] = cell_keys(u["k"], u["u"])
        per_unit[name] = g
    for name, key in (("blocks", "block_id"), ("hexes", "hex_id"), ("lsoas", "lsoa_code")):
        g = getattr(layers, name)
        u = per_unit[name].reindex(g[key].astype(str).to_numpy())
        raw = u["h"].fillna(0.0)
        if not rule.raw:
            # the score moves with its unit's cell-key perturbation (same relative noise), so
            # differences of harm scores do not give the weighted sum of a few records back
            n = u["n"].fillna(0.0).to_numpy(dtype="float64")
            pert = perturb(n, u["ck"].fillna(0).to_numpy(dtype="int64"), rule)
            raw = raw * np.where(n > 0, pert / np.where(n > 0, n, 1.0), 1.0)
        sc = pd.Series(raw.to_numpy(dtype="float64"), index=g.index)
        pos = g.columns.get_loc("suppressed") + 1
        g.insert(pos, "harm_score", protect_scores(sc, g["suppressed"], rule))
    rows = [
        ("harm", "harm_table", t.name),
        ("harm", "harm_weights", ", ".join(f"{k}={v:g}" for k, v in t.weights.items())),
        ("harm", "harm_as_of", as_of),
        (
            "harm",
            "harm_decay",
            f"x{t.factor:.4g} per full {t.period_months} months (stepwise), "
            "from the incident month (else arrival month)",
        ),
        (
            "harm",
            "harm_disclosure",
            "harm_score scaled by its unit's cell-key perturbation, withheld where count is "
            "suppressed; rounded to "
            f"the nearest {rule.round_to if not rule.raw else 0.01}",
        ),
    ]
    layers.summary = pd.concat(
        [layers.summary, pd.DataFrame(rows, columns=["section", "key", "value"])], ignore_index=True
    )
    return layers


def add_harm_from_store(
    layers: Layers,
    db_url: str,
    filters: Filters,
    network: NetworkInputs,
    *,
    as_of: str,
    home: Path | None = None,
) -> Layers:
    """IO edge for ``istvhub hotblocks --harm``: read the same records and add the scores."""
    from istvhub.hotblocks.service import read_records

    month_index(as_of)  # reject a malformed --as-of before any work
    records = read_records(db_url, filters.period_from, filters.period_to, home)
    return add_harm(layers, records, network.blocks, filters, as_of=as_of, lsoas=network.lsoas)
