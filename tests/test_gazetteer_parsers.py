"""Property tests for the gazetteer's small parsers (no data needed)."""

from __future__ import annotations

import json
import string

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from istvhub.gazetteer.normalise import normalise_name
from istvhub.gazetteer.raw import canon_postcode, display_case
from istvhub.gazetteer.read_points import bus_stop_parts
from istvhub.gazetteer.road_lines import _as_list

AREA = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=2)
OUTWARD = st.builds(
    lambda a, d, x: a + d + x, AREA, st.integers(0, 99).map(str), st.sampled_from(["", "A", "W"])
)
INWARD = st.builds(
    lambda d, x: str(d) + x,
    st.integers(0, 9),
    st.text(alphabet="ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2),
)


@given(OUTWARD, INWARD, st.sampled_from(["", " ", "  ", "\t"]), st.booleans())
def test_canon_postcode_any_spacing_and_case(out, inw, sep, lower):
    raw = out + sep + inw
    raw = raw.lower() if lower else raw
    got = canon_postcode(pd.Series([raw]))[0]
    assert got == f"{out} {inw}"
    assert canon_postcode(pd.Series([got]))[0] == got  # idempotent


WORDS = st.lists(
    st.text(alphabet=string.ascii_letters + "'-", min_size=1, max_size=8), min_size=1, max_size=5
).map(" ".join)


@given(WORDS)
def test_display_case_keeps_the_key(name):
    assert normalise_name(display_case(name)) == normalise_name(name)
    assert normalise_name(display_case(name.upper())) == normalise_name(name)


@given(st.lists(WORDS, min_size=1, max_size=3), st.sampled_from(["", " <>", " #", " ->", " [A]"]))
def test_bus_stop_parts(parts, junk):
    name = " / ".join(p + junk for p in parts)
    got = bus_stop_parts(name.upper())
    assert all(g and "<>" not in g and "#" not in g and "/" not in g for g in got)
    assert len(got) <= len(parts)


def test_bus_stop_parts_real_names():
    assert bus_stop_parts("BRIXTON STN <> / BRIXTON ROAD") == ["BRIXTON STN", "BRIXTON ROAD"]
    assert [normalise_name(p) for p in bus_stop_parts("BRIXTON STN <> / BRIXTON ROAD")] == [
        "brixton station",
        "brixton road",
    ]
    assert bus_stop_parts("WESTMINSTER STN <> / PARLIAMENT SQUARE") == [
        "WESTMINSTER STN",
        "PARLIAMENT SQUARE",
    ]


@given(
    st.lists(
        st.text(alphabet=string.ascii_letters + " '", min_size=1, max_size=10)
        .map(str.strip)
        .filter(bool),
        max_size=4,
    )
)
def test_as_list_accepts_osmnx_list_forms(names):
    assert _as_list(names) == names
    assert _as_list(np.array(names, dtype=object)) == names
    assert _as_list(json.dumps(names)) == names
    if len(names) == 1:
        assert _as_list(names[0]) == names
    assert _as_list(None) == []


# --------------------------------------------------------------------------- network noding

LINE = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=6).filter(
    lambda cs: all(a != b for a, b in zip(cs, cs[1:], strict=False))
)


@given(st.lists(LINE, min_size=1, max_size=6))
def test_split_at_shared_vertices_keeps_geometry_and_cuts_only_at_shared_vertices(lines):
    import shapely

    from istvhub.gazetteer.network import split_at_shared_vertices

    geoms = np.array([shapely.LineString(c) for c in lines], dtype=object)
    pieces = split_at_shared_vertices(geoms)
    assert np.isclose(shapely.length(pieces).sum(), shapely.length(geoms).sum())
    owners: dict[tuple[int, int], set[int]] = {}
    for i, cs in enumerate(lines):
        for c in cs:
            owners.setdefault(c, set()).add(i)
    ends = {tuple(map(int, p)) for cs in lines for p in (cs[0], cs[-1])}
    for p in pieces:
        cs = [tuple(map(int, c)) for c in p.coords]
        for c in (cs[0], cs[-1]):  # a piece ends at a line end or a vertex shared by 2+ lines
            assert c in ends or len(owners[c]) >= 2
        for c in cs[1:-1]:  # and never runs through a shared vertex
            assert len(owners[c]) == 1


def test_station_variants():
    from istvhub.gazetteer.read_points import _station_variants

    assert _station_variants("Brixton") == ["Brixton station"]
    assert set(_station_variants("Edgware Road (Bakerloo)")) == {
        "Edgware Road",
        "Edgware Road station",
        "Edgware Road (Bakerloo) station",
    }


def test_read_postcode_streets_chunked_both_layouts(tmp_path):
    from istvhub.gazetteer.read_areas import PRICE_PAID_COLUMNS, read_postcode_streets

    table = tmp_path / "ps.csv"
    table.write_text(
        "postcode,street,locality\nsw2 1aa,ACRE LANE,LONDON\n"
        "SW2  1AA,Acre Lane ,LONDON\nSW9 8RP,COLDHARBOUR LANE,LONDON\n"
        "TW20 8SR,COLDHARBOUR LANE,EGHAM\n,NO POSTCODE,X\n",
        encoding="utf-8",
    )
    pp = tmp_path / "pp.csv"
    row = dict.fromkeys(PRICE_PAID_COLUMNS, "")
    rows = []
    for pc, street in [
        ("SE5 9PR", "COLDHARBOUR LANE"),
        ("SE5 9PR", "COLDHARBOUR LANE"),
        ("SW2 1AA", ""),
    ]:
        rows.append(",".join(f'"{v}"' for v in {**row, "postcode": pc, "street": street}.values()))
    pp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    keep = {"SW2 1AA", "SW9 8RP", "SE5 9PR"}
    got = read_postcode_streets([table, pp], keep=keep, chunksize=2)
    assert sorted(map(tuple, got.to_numpy().tolist())) == [
        ("SE5 9PR", "COLDHARBOUR LANE"),
        ("SW2 1AA", "ACRE LANE"),
        ("SW9 8RP", "COLDHARBOUR LANE"),
    ]
