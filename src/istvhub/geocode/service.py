"""Re-geocoding stored records: what ``istvhub geocode --stored`` and the demo (after a gazetteer
rebuild) both call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from istvhub._errors import IstvhubError
from istvhub.core.config import get_settings
from istvhub.core.periods import is_period
from istvhub.geocode.geocoder import Geocoder
from istvhub.geocode.parallel import geocode_parallel
from istvhub.store import open_store

#: geocodes a frame of records with a loaded geocoder (the CLI passes one that shows progress)
Run = Callable[[Geocoder, pd.DataFrame], pd.DataFrame]


def _plain(geocoder: Geocoder, recs: pd.DataFrame) -> pd.DataFrame:
    return geocoder.geocode_frame(recs, text_col="location_text", department_col="department")


def regeocode_stored(
    *,
    department: str | None = None,
    period: str | None = None,
    db: str | None = None,
    home: Path | None = None,
    workers: int = 1,
    run: Run = _plain,
) -> pd.Series | None:
    """Re-geocode the current records (of one department / month, or all) with the current
    gazetteer and corrections, store the results and audit it; the count per geo status, or None
    when no record matches."""
    if period and not is_period(period):
        raise IstvhubError("--period must be YYYY-MM")
    url = db or get_settings().db_url
    store = open_store(url)
    try:
        recs = store.current_records(department, period_from=period, period_to=period)
        if recs.empty:
            return None
        gaz_home = home or get_settings().home
        geocoder = Geocoder.load(gaz_home, url)
        if workers > 1:
            res = geocode_parallel(recs, home=gaz_home, db_url=url, workers=workers)
        else:
            res = run(geocoder, recs)
        res["id"] = recs["id"].to_numpy()
        res["gazetteer_version"] = geocoder.version
        res["geocoded_at"] = datetime.now(UTC)
        n = store.update_geocodes(res)
        store.audit(
            "cli",
            "geocode.stored",
            f"re-geocoded {n} records (department {department or 'all'}, "
            f"period {period or 'all'}, gazetteer {geocoder.version})",
        )
    finally:
        store.dispose()
    return res["geo_status"].value_counts()
