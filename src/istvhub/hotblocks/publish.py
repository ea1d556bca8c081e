"""Publishing steps shared by the layers: protected unit counts with rank and share, small
protected tables, the summary rows, and H3 outlines. Every count that leaves the stage goes
through :mod:`istvhub.disclosure` here."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import shapely

from istvhub.disclosure.cellkey import cell_keys
from istvhub.disclosure.rules import DisclosureRule, protect
from istvhub.hotblocks.cells import to_bng


class SummaryRows(list[tuple[str, str, str]]):
    """(section, key, value) rows of a non-spatial ``summary`` layer, all text; a withheld
    (None/NaN) value prints as ``*`` and whole floats print without ``.0``."""

    def add(self, section: str, key: str, value: object) -> None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            value = "*"
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))
        self.append((section, key, str(value)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self, columns=["section", "key", "value"])


def _hex_polygons(hex_ids: pd.Series) -> np.ndarray:
    """H3 cell outlines in EPSG:27700: one transform and one polygons call for all cells."""
    if len(hex_ids) == 0:
        return np.array([], dtype=object)
    rings = [h3.cell_to_boundary(h) for h in hex_ids.tolist()]  # ((lat, lng), ...) each
    sizes = np.array([len(r) for r in rings])
    flat = np.array([p for r in rings for p in r], dtype="float64")
    x, y = to_bng(flat[:, 1], flat[:, 0])
    ring_idx = np.repeat(np.arange(len(rings)), sizes)
    lr = shapely.linearrings(np.column_stack([x, y]), indices=ring_idx)
    return np.asarray(shapely.polygons(lr), dtype=object)


def _published(
    raw: pd.Series, rule: DisclosureRule, total_pub: float | None, keys: pd.Series
) -> pd.DataFrame:
    """count / suppressed / rank / share columns for the units that may be listed: non-zero and
    not suppressed (a unit with 1-7 records is left out like an empty one). ``keys``: the cell
    key of each unit."""
    p = protect(raw, rule, cell_keys=keys.reindex(raw.index).fillna(0).to_numpy())
    p = p[~p["suppressed"].to_numpy(dtype=bool)]
    raw = raw.loc[p.index]
    cnt = p["count"]
    out = pd.DataFrame(index=raw.index)
    out["count"] = cnt.round(2) if rule.raw else cnt.astype("Int64")
    out["suppressed"] = p["suppressed"].astype(bool)
    out["rank"] = cnt.rank(ascending=False, method="min").astype("Int64")
    share = (cnt / total_pub * 100.0).round(1) if total_pub else pd.Series(np.nan, index=raw.index)
    out["share"] = share
    return out


def _protected_table(
    counts: dict[str, float], rule: DisclosureRule, keys: dict[str, int]
) -> dict[str, float | None]:
    """A small summary table (category -> count), each cell perturbed by its own cell key."""
    if not counts:
        return {}
    s = pd.Series(counts, dtype="float64")
    p = protect(s, rule, cell_keys=np.array([keys.get(k, 0) for k in s.index]))
    return {k: (None if p["suppressed"][k] else float(p["count"][k])) for k in s.index}


def _keys_by(rk: pd.Series, labels: pd.Series, names: list[str]) -> dict[str, int]:
    """Cell key of each category in ``names`` (records labelled by ``labels``)."""
    ck = cell_keys(rk, labels.astype("object").fillna("\x00"))
    return {n: int(ck.get(n, 0)) for n in names}
