"""One Geocoder shared across threads (as the API shares one) gives every text the answer it
gets alone: per-call state lives in each call, never on the shared object."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
DEPTS = ("RJZ01", "RQXM1", "R1H12", None)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    dev = pd.read_csv(REPO / "sample_feeds" / "geocode_dev.csv")
    # venue and station texts take the fuzzy paths that used per-call state
    return dev["text"].astype(str).sample(240, random_state=7).tolist()


def test_eight_threads_match_serial(gazetteer_home: Path, texts: list[str]) -> None:
    from istvhub.geocode import Geocoder
    from istvhub.geocode.normalise import normalise_text
    from istvhub.geocode.pii import scrub_location
    from istvhub.geocode.stages import geocode_norm

    geo = Geocoder.load(gazetteer_home)
    jobs = [
        (normalise_text(scrub_location(t)[0]), DEPTS[k % len(DEPTS)]) for k, t in enumerate(texts)
    ]
    serial = {j: geocode_norm(geo, *j) for j in jobs}

    def run(seed: int) -> list[tuple[tuple[str, str | None], dict]]:
        order = jobs[:]
        random.Random(seed).shuffle(order)  # threads interleave different texts
        return [(j, geocode_norm(geo, *j)) for j in order]

    with ThreadPoolExecutor(8) as pool:
        results = [r for chunk in pool.map(run, range(8)) for r in chunk]
    assert len(results) == 8 * len(jobs)
    wrong = [j for j, r in results if r != serial[j]]
    assert not wrong, f"{len(wrong)} threaded answers differ from the serial ones"


def test_threads_through_the_public_api(gazetteer_home: Path, texts: list[str]) -> None:
    from istvhub.geocode import Geocoder

    shared = Geocoder.load(gazetteer_home)
    alone = Geocoder.load(gazetteer_home)
    want = [alone.geocode(t, "RJZ01") for t in texts[:80]]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda t: shared.geocode(t, "RJZ01"), texts[:80]))
    assert got == want
