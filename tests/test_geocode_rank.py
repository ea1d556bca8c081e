"""Choosing among same-name candidates (geocode/rank.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from istvhub.geocode.rank import choose

# Old Kent Road in the gazetteer: a 116 m stub in Lewisham at the New Cross end, and the 2.3 km
# road in Southwark (coordinates in British National Grid metres, as the index holds them)
STUB = (535300.0, 177300.0, 60.0, "Lewisham")
ROAD = (534200.0, 178100.0, 900.0, "Southwark")


def _choose(pieces: list[tuple[float, float, float, str]]) -> int:
    x, y, prec, boroughs = (np.array(v) for v in zip(*pieces, strict=True))
    ch = choose(
        x, y, np.ones(len(pieces)), np.array(["street"] * len(pieces)), boroughs, [], None, prec
    )
    assert not ch.ambiguous  # pieces of one road, not two places
    return ch.best


def test_a_street_across_a_borough_boundary_is_answered_at_its_main_piece() -> None:
    assert _choose([STUB, ROAD]) == 1
    assert _choose([ROAD, STUB]) == 0  # index order no longer decides


@given(st.permutations([STUB, ROAD, (534900.0, 177600.0, 300.0, "Southwark")]))
def test_the_widest_piece_wins_in_any_order(pieces: list[tuple[float, float, float, str]]) -> None:
    assert pieces[_choose(pieces)] is ROAD
