"""Read the compliance inputs through the store's repository (the IO edge of this stage).

Only aggregates leave the database: submissions metadata and per department-month counts of the
current version's records (``istvhub.store.repos.stats``). No record-level text is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from istvhub.compliance.columns import STAT_COLUMNS
from istvhub.core.config import DATA_DIR
from istvhub.store.repos import Db
from istvhub.store.repos.stats import DEPT_COLUMNS, SUB_COLUMNS, compliance_rows

__all__ = ["DEPT_COLUMNS", "SUB_COLUMNS", "Inputs", "read_inputs", "read_registry_csv"]


@dataclass
class Inputs:
    departments: pd.DataFrame
    submissions: pd.DataFrame
    record_stats: pd.DataFrame


def read_registry_csv() -> pd.DataFrame:
    """The shipped registry, used when the store's departments table is still empty."""
    path = DATA_DIR / "departments.csv"
    if not path.is_file():
        return pd.DataFrame(columns=list(DEPT_COLUMNS))
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in DEPT_COLUMNS:
        if c not in df:
            df[c] = None
    df = df[list(DEPT_COLUMNS)].replace({"": None})
    return df


def read_inputs(db: Db) -> Inputs:
    """Departments, submissions (all versions) and record counts, as frames."""
    rows = compliance_rows(db)
    deps, subs, stats = rows.departments, rows.submissions, rows.record_stats
    if deps.empty:
        deps = read_registry_csv()
    if len(subs) and rows.quarantined:
        # The quarantine table is the detailed truth; the counter on the submission a summary.
        qn = rows.quarantined
        subs["rows_quarantined"] = [
            max(int(v or 0), int(qn.get(sid, 0)))
            for sid, v in zip(subs["submission_id"], subs["rows_quarantined"], strict=True)
        ]
    for c in STAT_COLUMNS:
        stats[c] = stats[c].astype("int64")
    return Inputs(deps, subs, stats)
