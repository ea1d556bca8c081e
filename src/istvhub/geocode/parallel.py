"""Geocode many records in N processes, each holding one loaded geocoder.

Distinct (text, department) pairs are what cost time, so they are de-duplicated first and dealt to
the workers in contiguous chunks; results are joined back to every record. On Linux the pool forks
after the parent has loaded the gazetteer index, so a worker starts with it already in memory
(copy-on-write) and only re-reads the store's corrections; elsewhere each worker loads it once.
Before forking, the parent geocodes one text so that what the first text of a process reads (the
block and LSOA layers, the English word frequencies, about a second) is read once, not per worker.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub.records import GEOCODE_COLUMNS

_worker_geocoder = None
#: distinct texts per chunk dealt to a worker: about half a second of work, against a fixed
#: ~50 ms a ``geocode_frame`` call costs (frames, layer lookups) and the last chunk's idle tail
CHUNK = 1000
#: a located text: geocoding it reads every layer the first text of a process reads
_WARM_UP = pd.DataFrame({"t": ["outside brixton station"], "d": [None]})


def _init(home: str | None, db_url: str | None) -> None:
    global _worker_geocoder
    from istvhub.geocode.shared import shared_geocoder

    _worker_geocoder = shared_geocoder(Path(home) if home else None, db_url)


def _run(chunk: pd.DataFrame) -> pd.DataFrame:
    assert _worker_geocoder is not None, "worker started without a gazetteer"
    return _worker_geocoder.geocode_frame(chunk, text_col="t", department_col="d")


def geocode_parallel(
    df: pd.DataFrame,
    *,
    home: Path | None,
    db_url: str | None,
    workers: int,
    text_col: str = "location_text",
    department_col: str | None = "department",
) -> pd.DataFrame:
    """``GEOCODE_COLUMNS`` for each row of ``df`` (same index), computed by N processes."""
    from istvhub.geocode.shared import shared_geocoder

    parent = shared_geocoder(home, db_url)  # loads once here; forked workers inherit it
    if parent is None:
        from istvhub._errors import GazetteerNotBuilt

        raise GazetteerNotBuilt("no gazetteer built: run istvhub gazetteer build")
    dept = df[department_col] if department_col and department_col in df else None
    keys = pd.DataFrame(
        {
            "t": df[text_col].astype("object"),
            "d": dept.astype("object") if dept is not None else None,
        }
    )
    distinct = keys.drop_duplicates().reset_index(drop=True)
    if workers <= 1 or len(distinct) < 2 * workers:
        res = parent.geocode_frame(distinct, text_col="t", department_col="d")
    else:
        # small enough chunks that the last one to finish leaves the other workers idle briefly
        n_chunks = min(len(distinct) // 2, max(workers * 4, len(distinct) // CHUNK))
        chunks = np.array_split(np.arange(len(distinct)), n_chunks)
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        if method == "fork":
            parent.geocode_frame(_WARM_UP, text_col="t", department_col="d")
            gc.freeze()  # a worker's collections then never touch (and copy) the index's pages
        try:
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=mp.get_context(method),
                initializer=_init,
                initargs=(str(home) if home else None, db_url),
            ) as pool:
                parts = list(pool.map(_run, [distinct.iloc[c] for c in chunks if len(c)]))
        finally:
            if method == "fork":
                gc.unfreeze()
        res = pd.concat(parts)
    res = pd.concat([distinct, res[list(GEOCODE_COLUMNS)].reset_index(drop=True)], axis=1)
    merged = keys.reset_index().merge(res, on=["t", "d"], how="left").set_index("index")
    out = merged.loc[df.index, list(GEOCODE_COLUMNS)]
    out.index = df.index
    return out
