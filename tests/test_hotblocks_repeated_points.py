"""Records that share a point (a postcode, a venue) are looked up once per distinct point in the
nearest-block snap and the 2021-area look-up (issue 16): each record must still get exactly
what it gets when every point is distinct, whatever order the repeats come in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from istvhub.gazetteer import load
from istvhub.hotblocks.areas import area_codes
from istvhub.hotblocks.assign import BlockIndex, assign


@pytest.fixture(scope="module")
def gz(gazetteer_home):
    return load(gazetteer_home)


def _points(gz, n: int) -> pd.DataFrame:
    """``n`` postcode / venue points of real entries, unnamed so every one takes the snap."""
    rng = np.random.default_rng(5)
    e = gz.entries[gz.entries["easting"].notna() & gz.entries["entry_type"].isin(["postcode"])]
    take = e.iloc[rng.choice(len(e), size=n, replace=False)]
    return pd.DataFrame(
        {
            "geo_status": "located",
            "match_type": rng.choice(["postcode", "venue"], size=n),
            "easting": take["easting"].to_numpy(dtype=float),
            "northing": take["northing"].to_numpy(dtype=float),
            "precision_m": take["precision_m"].to_numpy(dtype=float),
            "matched_name": None,
            "lsoa21_code": None,
        }
    )


def test_repeated_points_get_what_distinct_points_get(gz):
    index = BlockIndex(gz.blocks)
    uniq = _points(gz, 400)
    rng = np.random.default_rng(6)
    origin = rng.permutation(np.repeat(np.arange(len(uniq)), rng.integers(1, 9, size=len(uniq))))
    rep = uniq.iloc[origin].reset_index(drop=True)
    # each point repeated 1-8 times, the repeats shuffled among the others
    one = assign(uniq, index).blocks.set_index("record")["block_id"]
    many = assign(rep, index).blocks.set_index("record")["block_id"]
    assert one.notna().sum() > 200, "most points must snap, or equality proves little"
    assert sorted(many.index) == sorted(np.flatnonzero(np.isin(origin, one.index)))
    assert (
        many.sort_index().to_numpy() == one.loc[origin[many.sort_index().index]].to_numpy()
    ).all()

    lsoas21 = gz.lsoas21.drop_duplicates("lsoa21_code").set_index("lsoa21_code", drop=False)
    c_one = area_codes(uniq, lsoas21, "lsoa21_code")
    c_many = area_codes(rep, lsoas21, "lsoa21_code")
    assert c_one.notna().sum() > 300
    assert c_many.tolist() == c_one.iloc[origin].tolist()
