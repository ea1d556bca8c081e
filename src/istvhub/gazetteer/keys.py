"""Search keys: each entry's own key, its variants, and the hand-kept aliases (data, not code)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from istvhub.core.config import GAZETTEER_TABLES_DIR
from istvhub.gazetteer.entries import _cached_norm
from istvhub.gazetteer.normalise import normalise_name


def load_aliases(path: Path | None = None) -> pd.DataFrame:
    """The hand-kept alias table: alias, target_type, target_name, target_borough, note."""
    p = path or GAZETTEER_TABLES_DIR / "aliases.csv"
    if not p.exists():
        return pd.DataFrame(columns=["alias", "target_type", "target_name", "target_borough"])
    return pd.read_csv(p, dtype=str, keep_default_na=False, comment=None)


def load_chains(path: Path | None = None) -> pd.DataFrame:
    """The chain table: chain, match (a regex on the normalised venue name), aliases
    (``|``-separated, as people write them), note."""
    p = path or GAZETTEER_TABLES_DIR / "chains.csv"
    if not p.exists():
        return pd.DataFrame(columns=["chain", "match", "aliases", "note"])
    return pd.read_csv(p, dtype=str, keep_default_na=False)


def chain_keys(entries: pd.DataFrame, chains: pd.DataFrame | None = None) -> pd.DataFrame:
    """Alias keys for every venue of a chain ("maccys" -> each McDonald's), so a chain name
    with a street ("o/s maccys brixton rd") is resolved by the geocoder's street context.
    ``attrs["unmatched"]`` lists chains that match no venue (a table error)."""
    chains = load_chains() if chains is None else chains
    venues = entries[entries["entry_type"] == "venue"]
    vkeys = pd.Series(venues["key"].astype(str).to_numpy(), index=venues["entry_id"].to_numpy())
    eid: list[object] = []
    key: list[str] = []
    unmatched: list[str] = []
    # by column (the table is read as text): a row tuple's fields type as any pandas scalar
    for chain, match, aliases in zip(
        chains["chain"], chains["match"], chains["aliases"], strict=True
    ):
        hit = vkeys.index[vkeys.str.fullmatch(match).to_numpy()]
        if len(hit) == 0:
            unmatched.append(chain)
            continue
        # sorted: a set's order follows the per-process string hash, so keys.parquet differed
        # between two builds of the same sources
        for alias in sorted({normalise_name(a) for a in aliases.split("|")} - {""}):
            eid.extend(hit)
            key.extend([alias] * len(hit))
    out = pd.DataFrame({"entry_id": eid, "key": key, "key_kind": "alias"})
    out.attrs["unmatched"] = unmatched
    return out


def _keys(entries: pd.DataFrame, pois: pd.DataFrame) -> pd.DataFrame:
    """Search keys: every entry's own key, variants (names without 'the', '<x> station',
    bus stop parts, postcode without space), and aliases from data/gazetteer/aliases.csv."""
    frames = [
        pd.DataFrame({"entry_id": entries["entry_id"], "key": entries["key"], "key_kind": "name"})
    ]
    vid, vkey = [], []
    for eid, key, vs in zip(pois["entry_id"], pois["key"], pois["variants"], strict=True):
        for v in vs or ():
            k = _cached_norm(v)
            if k and k != key:
                vid.append(eid)
                vkey.append(k)
    pcs = entries[entries["entry_type"].isin(["postcode", "postcode_sector"])]
    vid += pcs["entry_id"].tolist()
    vkey += pcs["key"].str.replace(" ", "", regex=False).tolist()
    frames.append(pd.DataFrame({"entry_id": vid, "key": vkey, "key_kind": "variant"}))
    aliases = load_aliases()
    unresolved = []
    if len(aliases):
        idx = entries.set_index(["entry_type", "key"])[["entry_id", "borough"]].sort_index()
        aid, akey = [], []
        for r in aliases.itertuples(index=False):
            tk = (r.target_type, normalise_name(r.target_name))
            if tk not in idx.index:
                unresolved.append(r.alias)
                continue
            hits = idx.loc[[tk]]
            if getattr(r, "target_borough", ""):
                hits = hits[hits["borough"] == r.target_borough]
            if hits.empty:
                unresolved.append(r.alias)
                continue
            for eid in hits["entry_id"]:
                aid.append(eid)
                akey.append(normalise_name(r.alias))
        frames.append(pd.DataFrame({"entry_id": aid, "key": akey, "key_kind": "alias"}))
    chain = chain_keys(entries)
    frames.append(chain)
    keys = pd.concat(frames, ignore_index=True).drop_duplicates(["entry_id", "key"])
    keys = keys[keys["key"].str.len() > 0].astype("string").reset_index(drop=True)
    keys.attrs["unresolved"] = unresolved + [f"chain {c}" for c in chain.attrs["unmatched"]]
    return keys
