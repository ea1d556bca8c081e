"""Read grouped counts for a breakdown from the store (the IO edge).

Besides the count, each group gets its *cell key* (``istvhub.disclosure.cellkey``): the sum of its
records' keyed record keys mod 256. The keys are computed here from the record ids, which never
leave this function.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from istvhub.disclosure.cellkey import KEY_SPACE, record_keys
from istvhub.store.repos import Db
from istvhub.store.repos.records import current_groups


def read_counts(
    db: Db,
    by: tuple[str, ...],
    *,
    start: str,
    end: str,
    boroughs: tuple[str, ...] = (),
    department: str | None = None,
    areas21: tuple[str, ...] = (),
    home: Path | None = None,
) -> pd.DataFrame:
    """Counts (``n``) and cell keys (``ckey``) of current-version records per combination of
    ``by`` over ``start..end`` (``home``: whose installation secret keys the records).

    ``boroughs`` filters on the borough the incident was geocoded to (as the hot-block layers
    do), case-insensitively; ``department`` on the ED that saw the patient; ``areas21`` on Census
    2021 LSOA/MSOA codes (issue 19). Without any: London (every current record, located or not).
    """
    df = current_groups(
        db, by, start=start, end=end, boroughs=boroughs, department=department, areas21=areas21
    )
    df["key"] = record_keys(df["record_id"].tolist(), home=home) if len(df) else []
    df[list(by)] = df[list(by)].astype("object").where(df[list(by)].notna(), None)
    g = df.groupby(list(by), dropna=False, sort=True)
    out = pd.DataFrame({"n": g.size(), "ckey": g["key"].sum() % KEY_SPACE}).reset_index()
    out["n"] = out["n"].astype("int64")
    out["ckey"] = out["ckey"].astype("int64")
    return out[[*by, "n", "ckey"]]
