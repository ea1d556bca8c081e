"""A street's reach from its one answer point (``gazetteer/extent.py``): its postcode spread, the
ends of the network blocks named after it and the bus stops named after it, in its own borough
only (the invented names below are no London street)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from istvhub.gazetteer.extent import street_extent
from istvhub.gazetteer.normalise import normalise_name


def _entries() -> pd.DataFrame:
    names = [
        "Quillon Dock Road",  # postcode units at its west end, 300 m spread
        "Marrable Close",  # a short close
        "Ferrow Street / Quillon Dock Road",  # a stop 1.8 km east, same borough
        "Quillon Dock Road",  # a stop of the same name in another borough
        "Quillon Dock Road",  # a venue of the same name is no part of the street
    ]
    return pd.DataFrame(
        {
            "entry_type": ["street", "street", "bus_stop", "bus_stop", "venue"],
            "name": names,
            "key": [normalise_name(n) for n in names],
            "easting": [538000.0, 536000.0, 539800.0, 520000.0, 545000.0],
            "northing": [181000.0, 182000.0, 181000.0, 181000.0, 181000.0],
            "borough": ["Newham", "Newham", "Newham", "Camden", "Newham"],
            "precision_m": [325.0, 80.0, 150.0, 150.0, 30.0],
        }
    )


def _blocks(rows: list[tuple[str, str, list[tuple[float, float]]]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"names_key": [normalise_name(n) for n, _, _ in rows], "borough": [b for _, b, _ in rows]},
        geometry=[shapely.LineString(c) for _, _, c in rows],
    )


def test_named_stops_and_blocks_in_the_borough_extend_the_street() -> None:
    blocks = _blocks(
        [
            ("Quillon Dock Road", "Newham", [(537000.0, 181000.0), (537400.0, 181000.0)]),
            ("Quillon Dock Road", "Camden", [(500000.0, 181000.0), (500500.0, 181000.0)]),
            ("Marrable Close", "Newham", [(536000.0, 182000.0), (536060.0, 182040.0)]),
        ]
    )
    got = street_extent(_entries(), blocks, normalise_name)
    # the stop 1,800 m east is the farthest point; the other borough's stop and block, 18 km
    # and more away, and the venue of the same name do not count
    assert got[0] == 1800.0
    # a short close keeps its postcode spread (its block ends 72 m away are within it)
    assert got[1] == 80.0
    assert np.isnan(got[2:]).all()


def test_without_stops_or_blocks_the_reach_is_the_postcode_spread() -> None:
    e = _entries()
    got = street_extent(e[e["entry_type"] != "bus_stop"], _blocks([]).iloc[:0], normalise_name)
    assert list(got[:2]) == [325.0, 80.0]
