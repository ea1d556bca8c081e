"""PlaceIndex lookups made faster (issue 12.7) give the answers of the scans they replaced, on
the real gazetteer: ``near_words`` through one-deletion keys against the 3-gram scan,
``find_spans`` with its key-prefix cut-off against trying every span, and ``fuzzy_near`` on
pre-sorted keys against ``token_sort_ratio`` over the keys as they are.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from istvhub.geocode.candidates import GENERIC, GRID_M, POI_TYPES, STOPWORDS
from istvhub.geocode.typos import grams

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ix(gazetteer_home: Path):
    from istvhub.geocode import Geocoder

    return Geocoder.load(gazetteer_home).index


def near_words_by_scan(ix, tok: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The implementation near_words had: score every vocabulary word sharing a 3-gram or the
    first letter and about the length, keep rapidfuzz's ten nearest, those one edit away."""
    if not (len(tok) >= 5 and tok.isalpha() and tok not in GENERIC and tok not in STOPWORDS):
        return []
    parts = [ix.gram_idx[g] for g in grams(tok) if g in ix.gram_idx]
    extra = [ix.len_bucket.get((tok[0], n)) for n in (len(tok) - 1, len(tok), len(tok) + 1)]
    parts += [e for e in extra if e is not None]
    if not parts:
        return []
    ids = np.unique(np.concatenate(parts))
    res = process.extract(
        tok, ix.vocab[ids].tolist(), scorer=OSA.distance, score_cutoff=1, limit=10
    )
    return [w for w, d, _ in res if d == 1]


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    c = rng.choice("aeiourstnl")
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1 :]
    if op == 1:
        return word[:i] + c + word[i + 1 :]
    if op == 2:
        return word[:i] + c + word[i:]
    return word[:i] + word[i + 1 : i + 2] + word[i : i + 1] + word[i + 2 :]


def test_near_words_equal_the_scan_on_vocabulary_and_typos(ix) -> None:
    rng = random.Random(12)
    words = [w for w in ix.vocab.tolist() if len(w) >= 5]
    sample = rng.sample(words, 1500)
    toks = sample + [_typo(w, rng) for w in sample] + ["belham", "brixtom", "peckam", "walword"]
    found = 0
    for t in toks:
        ix._near.pop(t, None)
        got = ix.near_words(t)
        assert got == near_words_by_scan(ix, t), t
        found += bool(got)
    assert found > 300  # the comparison is not between empty lists


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet="abcdeilmnorstuwy", min_size=5, max_size=11))
def test_near_words_equal_the_scan_on_any_word(ix, tok: str) -> None:
    ix._near.pop(tok, None)
    assert ix.near_words(tok) == near_words_by_scan(ix, tok)


def test_span_cut_off_changes_no_span(ix, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every dev text, tokens corrected as the stages correct them: the spans found with the
    prefix cut-off are the spans found by trying every span up to the longest key."""
    from istvhub.geocode.normalise import normalise_text

    texts = pd.read_csv(REPO / "sample_feeds" / "geocode_dev.csv", dtype=str)["text"].dropna()
    cases = []
    for t in texts.drop_duplicates():
        toks = normalise_text(t).split()
        corr = [ix.correct_token(x) for x in toks]
        alts = {k: ix.alternatives(x) for k, x in enumerate(toks) if corr[k][0] != x}
        cases.append(
            ([c for c, _ in corr], [q for _, q in corr], {k: a for k, a in alts.items() if a})
        )
    fast = [ix.find_spans(*c) for c in cases]
    from istvhub.geocode import spans

    monkeypatch.setattr(spans, "_reach", lambda ix, tokens, alts, i: len(tokens))
    slow = [ix.find_spans(*c) for c in cases]
    assert fast == slow
    assert sum(len(h) for h in fast) > len(cases)
    assert any(c[2] for c in cases)  # texts with spelling alternatives are among them


def fuzzy_near_by_token_sort(ix, text, xs, ys, radius, types, cutoff, limit):  # type: ignore[no-untyped-def]
    """The implementation fuzzy_near had: cells as a set, types by string, token_sort_ratio."""
    keys: set[tuple[int, int]] = set()
    r = int(np.ceil(radius / GRID_M))
    for px, py in zip(xs, ys, strict=False):
        cx, cy = int(px // GRID_M), int(py // GRID_M)
        keys.update((cx + i, cy + j) for i in range(-r, r + 1) for j in range(-r, r + 1))
    parts = [ix.fuzzy_grid[k] for k in keys if k in ix.fuzzy_grid]
    if not parts:
        return []
    idx = np.concatenate(parts)
    idx = idx[np.isin(ix.fuzzy_type[idx], types)]
    if not len(idx):
        return []
    q = text[4:] if text.startswith("the ") else text
    res = process.extract(
        q,
        ix.fuzzy_keys[idx].tolist(),
        scorer=fuzz.token_sort_ratio,
        score_cutoff=cutoff,
        limit=limit,
    )
    return [(int(ix.fuzzy_rows[idx[j]]), sc / 100.0) for _, sc, j in res]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_fuzzy_near_equals_token_sort_over_unsorted_keys(ix, data) -> None:  # type: ignore[no-untyped-def]
    """Near a random named place, a query made of (possibly mistyped, reordered) words of a
    nearby name: the same rows, scores and order as the token_sort_ratio scan."""
    j = data.draw(st.integers(0, len(ix.fuzzy_rows) - 1))
    row = int(ix.fuzzy_rows[j])
    words = str(ix.fuzzy_keys[j]).split() + data.draw(
        st.lists(st.sampled_from(["the", "road", "pub", "x", "st"]), max_size=2)
    )
    words = data.draw(st.permutations(words))
    typo = bool(words) and data.draw(st.booleans()) and len(words[0]) > 3
    if typo:
        words[0] = _typo(words[0], random.Random(j))
    text = " ".join(words)
    types = data.draw(st.sampled_from([POI_TYPES, ("street",), ("station", "venue")]))
    radius = data.draw(st.sampled_from([400.0, 1800.0]))
    args = (np.array([ix.x[row]]), np.array([ix.y[row]]), radius, types)
    got = ix.fuzzy_near(text, *args, cutoff=84.0, limit=8)
    assert got == fuzzy_near_by_token_sort(ix, text, *args, 84.0, 8)
    if not typo and sorted(words) == sorted(str(ix.fuzzy_keys[j]).split()):
        assert (ix.fuzzy_type[j] in types) <= bool(got)  # its own name finds it (or a twin)
