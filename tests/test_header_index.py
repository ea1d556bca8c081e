"""The indexed, memoised header test gives exactly the all-pairs answer (``match_score > 0``
against some vocabulary spelling), for real spellings, their typos and arbitrary text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from istvhub.ingest.headers import HeaderKey, count_known, match_score
from istvhub.ingest.layouts import vocabulary

VOCAB = vocabulary(None)
SPELLINGS = sorted({v.concat for v in VOCAB if v.concat})


def _all_pairs(cell: str) -> bool:
    k = HeaderKey.of(cell)
    return any(match_score(k, v) > 0 for v in VOCAB)


@given(
    base=st.sampled_from(SPELLINGS),
    pos=st.integers(min_value=0, max_value=40),
    ch=st.sampled_from("abcdefghijklmnopqrstuvwxyz _()/-"),
    mode=st.sampled_from(["same", "replace", "insert", "drop", "upper"]),
)
def test_typos_of_real_spellings_agree(base, pos, ch, mode):
    i = pos % (len(base) + 1)
    cell = {
        "same": base,
        "replace": base[:i] + ch + base[i + 1 :],
        "insert": base[:i] + ch + base[i:],
        "drop": base[:i] + base[i + 1 :],
        "upper": base.upper(),
    }[mode]
    assert (count_known([cell], VOCAB) == 1) == _all_pairs(cell)


@given(st.text(max_size=40))
def test_arbitrary_text_agrees(cell):
    want = 1 if cell.strip() and _all_pairs(cell) else 0
    assert count_known([cell], VOCAB) == want
