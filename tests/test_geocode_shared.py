"""One geocoder per process (ingest and API reuse it) and geocoding in N processes
(``istvhub geocode --stored --workers N``) give exactly the serial answers."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from istvhub.records import GEOCODE_COLUMNS

DEV = Path(__file__).resolve().parents[1] / "sample_feeds" / "geocode_dev.csv"


@pytest.fixture(scope="module")
def texts() -> pd.DataFrame:
    dev = pd.read_csv(DEV, dtype=str, keep_default_na=False).head(300)
    # repeated texts and two departments, as stored months have
    df = pd.concat([dev, dev.head(50)], ignore_index=True)
    df["department"] = ["RJ122" if i % 2 else "RJZ01" for i in range(len(df))]
    df.index = df.index * 3 + 7  # a non-default index must come back unchanged
    return df.rename(columns={"text": "location_text"})


def test_shared_geocoder_loads_once_under_concurrent_callers(gazetteer_home, monkeypatch):
    from istvhub.geocode import shared
    from istvhub.geocode.geocoder import Geocoder

    shared.clear()
    calls = []
    real = Geocoder.load.__func__

    def counting(cls, home=None, db_url=None):
        calls.append(home)
        return real(cls, home, db_url)

    monkeypatch.setattr(Geocoder, "load", classmethod(counting))
    got: list[object] = []
    threads = [
        threading.Thread(target=lambda: got.append(shared.shared_geocoder(gazetteer_home)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len({id(g) for g in got}) == 1 and got[0] is not None


def test_shared_geocoder_reloads_when_corrections_change(gazetteer_home, db_url):
    from istvhub.geocode import shared
    from istvhub.geocode.corrections import add_correction
    from istvhub.store import open_store

    shared.clear()
    open_store(db_url).dispose()
    first = shared.shared_geocoder(gazetteer_home, db_url)
    assert shared.shared_geocoder(gazetteer_home, db_url) is first
    add_correction(db_url, "the usual bench", 51.5, -0.1, by="test")
    second = shared.shared_geocoder(gazetteer_home, db_url)
    assert second is not first
    assert second.geocode("the usual bench")["geo_status"] == "located"


@pytest.mark.slow
def test_parallel_equals_serial(gazetteer_home, texts):
    from istvhub.geocode.parallel import geocode_parallel
    from istvhub.geocode.shared import shared_geocoder

    serial = shared_geocoder(gazetteer_home).geocode_frame(texts)
    par = geocode_parallel(texts, home=gazetteer_home, db_url=None, workers=2)
    assert list(par.columns) == list(GEOCODE_COLUMNS)
    assert par.index.equals(texts.index)
    pd.testing.assert_frame_equal(
        par.astype(object).where(par.notna(), None),
        serial[list(GEOCODE_COLUMNS)].astype(object).where(serial.notna(), None),
        check_dtype=False,
    )
