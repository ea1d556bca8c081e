"""istvhub.disclosure: the ptable, record and cell keys, perturbation, query rules, and the
hot-block listing that never tells a unit of 1-7 records from an empty one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from istvhub.disclosure.cellkey import (
    KEY_SPACE,
    cell_key_of,
    cell_keys,
    perturb,
    ptable,
    record_keys,
)
from istvhub.disclosure.query import QueryTooFine, check_query, hours_width, months_between
from istvhub.disclosure.rules import get_rule, protect, protect_total
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.assign import BlockIndex
from istvhub.hotblocks.sample import blocks_from_osm_edges, synthetic_records, westminster_lsoas

NHS = get_rule("nhs_hes")
RULES = ["nhs_hes", "opensafely", "ons_10_5"]


@pytest.fixture(autouse=True)
def _secret(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTVHUB_SECRET_FILE", str(tmp_path / "secret.key"))


# --- ptable and perturbation ---------------------------------------------------------------


def test_ptable_covers_every_cell_key_and_never_goes_below_the_threshold():
    t = ptable()
    assert t.shape == (3, KEY_SPACE)
    for above in range(t.shape[0]):
        assert t[above].min() >= -above  # a count at the threshold + k never drops below it
        assert np.abs(t[above]).max() <= 2
    assert t[-1].mean() == 0  # counts well above the threshold: no bias


@settings(max_examples=300)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=50),
    st.lists(st.integers(0, 10**6), min_size=50, max_size=50),
    st.sampled_from(RULES),
)
def test_published_counts_never_small_rounded_and_close(counts, keys, rule_name):
    rule = get_rule(rule_name)
    raw = np.asarray(counts, dtype="float64")
    ck = np.asarray(keys[: len(counts)]) % KEY_SPACE
    pert = perturb(raw, ck, rule)
    live = raw >= rule.threshold
    assert np.all(pert[live] >= rule.threshold) and np.all(pert[~live] == raw[~live])
    p = protect(pd.Series(raw), rule, cell_keys=ck)
    pub = p["count"].dropna().to_numpy()
    assert not ((pub > 0) & (pub <= rule.suppress_max)).any()
    assert np.all(pub % rule.round_to == 0)
    shown = raw[~p["suppressed"].to_numpy()]
    assert np.all(np.abs(pub - shown) <= 2 + rule.round_to / 2)
    # small counts are suppressed by the rule, whatever the key
    assert (p["suppressed"].to_numpy() == ((raw > 0) & (raw <= rule.suppress_max))).all()


def test_same_cell_same_answer_and_totals_perturbed_too():
    raw = np.array([23.0, 23.0, 23.0])
    a = protect(pd.Series(raw), NHS, cell_keys=np.array([0, 0, 255]))
    assert a["count"].iloc[0] == a["count"].iloc[1]
    # 23 + (-2) -> 21 -> 20; 23 + 2 -> 25
    assert a["count"].tolist() == [20.0, 20.0, 25.0]
    assert protect_total(23, NHS, 0) == 20.0 and protect_total(23, NHS, 255) == 25.0
    assert protect_total(5, NHS, 255) is None


# --- record and cell keys -------------------------------------------------------------------


def test_record_keys_are_fixed_per_installation_and_unguessable(tmp_path, monkeypatch):
    ids = [f"rec{i:06d}" for i in range(25_600)]
    a = record_keys(ids)
    assert np.array_equal(a, record_keys(ids))  # fixed: the same record, the same key
    assert a.min() >= 0 and a.max() < KEY_SPACE
    counts = np.bincount(a, minlength=KEY_SPACE)
    assert counts.min() > 50 and counts.max() < 160  # ~uniform (100 expected per key)
    monkeypatch.setenv("ISTVHUB_SECRET_FILE", str(tmp_path / "other.key"))
    b = record_keys(ids)
    assert (a != b).mean() > 0.95  # another installation's secret: unrelated keys
    with pytest.raises(ValueError):
        record_keys(["x", None])


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 255)), min_size=1))
def test_cell_key_is_the_sum_mod_256_in_any_order(rows):
    df = pd.DataFrame(rows, columns=["unit", "key"])
    ck = cell_keys(df["key"], df["unit"])
    shuffled = df.sample(frac=1.0, random_state=1)
    assert ck.equals(cell_keys(shuffled["key"], shuffled["unit"]))
    for u, g in df.groupby("unit"):
        assert ck[u] == g["key"].sum() % 256 == cell_key_of(g["key"])


# --- query rules -------------------------------------------------------------------------


def test_query_rules():
    assert months_between("2024-11", "2025-01") == 3 and hours_width((22, 4)) == 6
    ok = {"period_from": "2025-01", "period_to": "2025-03"}
    check_query(NHS, **ok, hours=(22, 4), days=(4, 5), h3_res=9)
    check_query(NHS, period_from="2025-03", period_to="2025-03", h3_res=10)  # no time filter
    for bad, option in (
        ({"period_from": "2025-03", "period_to": "2025-03", "days": (6,)}, "--days"),
        ({**ok, "hours": (22, 4), "h3_res": 10}, "--hours"),
        ({**ok, "hours": (22, 23)}, "--hours"),
    ):
        with pytest.raises(QueryTooFine, match=option):
            check_query(NHS, **bad)
    # administrators' unsuppressed output is audited, not limited
    check_query(get_rule(unsuppressed=True), period_from="2025-03", period_to="2025-03", days=(6,))


# --- listing: a unit with 1-7 is left out exactly like an empty one --------------------------


@pytest.fixture(scope="module")
def network(sources_dir):
    blocks = blocks_from_osm_edges(sources_dir)
    return BlockIndex(blocks), westminster_lsoas(sources_dir)


@pytest.mark.parametrize("n", [300, 3000])
def test_listed_units_are_exactly_those_with_publishable_counts(network, n, tmp_path):
    index, lsoas = network
    recs = synthetic_records(index.blocks, n, seed=n)
    f = Filters("2024-01", "2024-03")
    pub = build_layers(recs, index, f, NHS, lsoas=lsoas)
    raw = build_layers(recs, index, f, get_rule(unsuppressed=True), lsoas=lsoas)
    for layer, key in (("blocks", "block_id"), ("hexes", "hex_id"), ("lsoas", "lsoa_code")):
        r = getattr(raw, layer).set_index(key)["count"].astype(float)
        listed = set(getattr(pub, layer)[key])
        assert listed == set(r.index[r >= NHS.threshold - 0.5]), layer
        assert not getattr(pub, layer)["suppressed"].any()
    # one more record in a hex that stays at 1-7 changes nothing in the hex listing
    from istvhub.hotblocks.assign import assign

    hx = assign(recs, index, lsoas).records["hex_9"]
    sizes = hx.map(hx.value_counts())
    i = sizes[sizes <= 6].index[0]
    more = pd.concat([recs, recs.loc[[i]].assign(record_id="extra-1")], ignore_index=True)
    b = build_layers(more, index, f, NHS, lsoas=lsoas)
    cols = ["hex_id", "count", "suppressed"]  # (shares move with the total, which is perturbed)
    pd.testing.assert_frame_equal(b.hexes[cols], pub.hexes[cols])


def test_time_filters_refused_on_fine_queries_and_named(network):
    index, lsoas = network
    recs = synthetic_records(index.blocks, 200, seed=2)
    with pytest.raises(QueryTooFine, match="--days"):
        build_layers(recs, index, Filters("2024-02", "2024-02", days=(4,)), NHS)
    with pytest.raises(QueryTooFine, match="--h3-res"):
        build_layers(recs, index, Filters("2024-01", "2024-03", hours=(22, 4), h3_res=10), NHS)


# --- equality: every entry and margin keyed on its own records -----------------------------


def test_equality_cube_perturbed_by_cell_key_and_stable():
    from istvhub.equality.core import TOTAL, breakdown

    rng = np.random.default_rng(4)
    rows = []
    for age in ("18-24", "25-34", "35-44"):
        for sex in ("male", "female"):
            n = int(rng.integers(8, 40))
            rows.append({"age_band": age, "sex": sex, "n": n, "ckey": int(rng.integers(0, 256))})
    counts = pd.DataFrame(rows)
    by = ("age_band", "sex")
    a = breakdown(counts, by, NHS, scope="t", start="2025-01", end="2025-03")
    b = breakdown(counts, by, NHS, scope="t", start="2025-01", end="2025-03")
    pd.testing.assert_frame_equal(a.frame, b.frame)  # same records, same answer
    shown = a.frame.dropna(subset=["count"])
    assert (shown["count"] % 5 == 0).all() and not shown["count"].between(1, 7).any()
    # the grand total is a cell of its own: its key is the sum of every record key
    raw_total = counts["n"].sum()
    assert abs(a.cell(age_band=TOTAL, sex=TOTAL) - raw_total) <= 4.5
    # another installation's keys move some entries (the noise is keyed, not fixed per count)
    other = breakdown(
        counts.assign(ckey=(counts["ckey"] + 97) % 256), by, NHS, scope="t", start="a", end="b"
    )
    assert (other.frame["count"].fillna(-1) != a.frame["count"].fillna(-1)).any()
