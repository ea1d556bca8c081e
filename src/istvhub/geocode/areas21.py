"""Census 2021 areas for located results: LSOA and MSOA 2021 by point in polygon.

Kept beside ``lsoa_code`` (2011), which stays for the output contract and for periods before
2021. A gazetteer built without the Census 2021 files leaves both empty.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

COLUMNS = ("lsoa21_code", "msoa21_code")


def add_census2021(out: pd.DataFrame, located: pd.Series, gazetteer: object | None) -> None:
    """Fill ``lsoa21_code``/``msoa21_code`` in place for ``located`` rows with a point."""
    for c in COLUMNS:
        out[c] = out[c].astype("object") if c in out else None
    areas = getattr(gazetteer, "areas21_of", None)
    if areas is None or not located.any():
        return
    try:
        lsoa, msoa = areas(
            out.loc[located, "easting"].to_numpy(), out.loc[located, "northing"].to_numpy()
        )
    except Exception as exc:  # noqa: BLE001 - an enrichment, never a failure of the geocode
        log.warning("census 2021 areas failed (%s); left empty", type(exc).__name__)
        return
    out.loc[located, "lsoa21_code"] = list(np.asarray(lsoa, dtype=object))
    out.loc[located, "msoa21_code"] = list(np.asarray(msoa, dtype=object))
