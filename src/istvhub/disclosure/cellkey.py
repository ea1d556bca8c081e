"""The cell-key method (ONS, Census 2021 custom tables): fixed noise keyed on a cell's records.

Each record gets a fixed pseudo-random *record key* in 0..255: a keyed hash (the installation
secret, :mod:`istvhub.core.secrets`) of its record id, so nobody without the secret can compute
it. A cell's *cell key* is the sum of its records' keys mod 256. The published value is the count
plus the perturbation the ptable (``data/disclosure_ptable.csv``) gives for (count, cell key),
then the rule's rounding. So the same records always give the same answer (repeating a query
gains nothing), and two overlapping queries whose cells differ by a few records get unrelated
perturbations (their difference is not the few records). Counts of 1-7 are suppressed before any
of this; the ptable never takes a count at or above the threshold below it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub.core.config import DATA_DIR
from istvhub.disclosure.rules import DisclosureRule

PTABLE_FILE = DATA_DIR / "disclosure_ptable.csv"
#: record and cell keys live in 0..KEY_SPACE-1 (ONS uses 256)
KEY_SPACE = 256
_PURPOSE = "cell-key"


def record_keys(record_ids: Iterable[object], *, home: Path | None = None) -> np.ndarray:
    """Record key (0..255) of each record id; a missing id raises (every record has one)."""
    from istvhub.core.secrets import first_digest_bytes

    ids = []
    for rid in record_ids:
        if rid is None or (isinstance(rid, float) and np.isnan(rid)):
            raise ValueError("a record without a record id cannot get a record key")
        ids.append(str(rid))
    return np.asarray(first_digest_bytes(_PURPOSE, ids, home=home), dtype=np.int64)


def with_record_keys(df: pd.DataFrame, *, home: Path | None = None) -> pd.DataFrame:
    """``df`` with a ``record_key`` column (from ``record_id``) and without ``record_id``: the
    aggregation stages need the key, never the id."""
    out = df.copy()
    if "record_key" not in out.columns:
        if "record_id" not in out.columns:
            raise ValueError("records need record_id (or record_key) for the cell-key method")
        out["record_key"] = record_keys(out["record_id"].tolist(), home=home)
    return out.drop(columns=["record_id"], errors="ignore")


def cell_keys(keys: pd.Series, groups: pd.Series | list[pd.Series]) -> pd.Series:
    """Cell key per group: sum of the record keys of the group's records mod 256."""
    return (keys.astype("int64").groupby(groups, sort=True).sum() % KEY_SPACE).astype("int64")


def cell_key_of(keys: pd.Series | np.ndarray) -> int:
    """Cell key of one set of records (a total)."""
    return int(np.asarray(keys, dtype="int64").sum() % KEY_SPACE)


@lru_cache(maxsize=4)
def ptable(path: str | None = None) -> np.ndarray:
    """The ptable as an array ``[row, cell key] -> perturbation``; row 0 is a count equal to the
    threshold, row 1 one above, the last row every count further above."""
    p = Path(path) if path else PTABLE_FILE
    with p.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    n_rows = max(int(r["above_threshold"]) for r in rows) + 1
    table = np.full((n_rows, KEY_SPACE), np.iinfo(np.int64).min, dtype=np.int64)
    for r in rows:
        a, lo, hi = int(r["above_threshold"]), int(r["ckey_from"]), int(r["ckey_to"])
        table[a, lo : hi + 1] = int(r["perturbation"])
    if (table == np.iinfo(np.int64).min).any():
        raise ValueError(f"ptable {p.name}: every row must cover cell keys 0-{KEY_SPACE - 1}")
    return table


def perturb(raw: np.ndarray, keys: np.ndarray, rule: DisclosureRule) -> np.ndarray:
    """Perturbed counts (before rounding). Zero stays zero; counts below the threshold are
    returned unchanged (they are suppressed by the caller); fractional counts (street matches
    spread over blocks) use the row of their whole part."""
    raw = np.asarray(raw, dtype="float64")
    keys = np.asarray(keys, dtype="int64") % KEY_SPACE
    table = ptable()
    above = np.floor(raw + 1e-9) - rule.threshold
    live = above >= 0
    row = np.clip(above, 0, table.shape[0] - 1).astype(np.int64)
    d = np.where(live, table[row, keys], 0)
    return raw + d
