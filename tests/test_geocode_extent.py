"""The eval judges a street answer along the street (``evaluation/extent.py``): its postcode
points and the bus stops named after it in its borough, not only the answer's one point."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from istvhub.geocode.evaluation.extent import along_street_m
from istvhub.geocode.explain import to_bng


def _index() -> SimpleNamespace:
    # an invented 2 km road: postcode points at its west end, bus stops along it, and a stop of
    # the same name in another borough that must not count
    return SimpleNamespace(
        etype=np.array(["street", "bus_stop", "bus_stop", "bus_stop"], dtype=object),
        name=np.array(
            ["Long Road", "Long Road", "Quay Street / Long Road", "Long Road"], dtype=object
        ),
        borough=np.array(["Newham", "Newham", "Newham", "Camden"], dtype=object),
        x=np.array([530000.0, 531500.0, 532000.0, 528000.0]),
        y=np.array([180000.0, 180000.0, 180000.0, 185000.0]),
        street_pts={0: np.array([[529900.0, 180000.0], [530100.0, 180000.0]])},
    )


def _lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = to_bng().transform(x, y, direction="INVERSE")
    return float(lon), float(lat)


def test_a_point_far_along_the_street_is_near_its_stops() -> None:
    ix = _index()
    pts = [(532050.0, 180000.0), (531500.0, 180100.0), (528000.0, 185000.0)]
    gt = pd.DataFrame([dict(zip(("lon", "lat"), _lonlat(*p), strict=True)) for p in pts])
    res = pd.DataFrame(
        {
            "geo_status": ["located"] * 3,
            "match_type": ["street"] * 3,
            "matched_name": ["Long Road"] * 3,
            "easting": [530000.0] * 3,
            "northing": [180000.0] * 3,
        }
    )
    d = along_street_m(ix, gt, res)
    assert d[0] < 60 and d[1] < 110  # the stops in its borough show the street's extent
    assert d[2] > 2000  # the Camden stop of that name is another street
