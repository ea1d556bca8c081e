"""Convert aggregates published in LSOA 2011 areas to LSOA 2021 with ONS's exact-fit lookup.

* U (unchanged) and M (several 2011 LSOAs merged into one 2021 LSOA): the count moves as it is;
  merged rows are summed into their 2021 code.
* S (one 2011 LSOA split into several 2021 LSOAs): never split by guesswork (area or population
  shares would invent where incidents were). The count is divided in the proportions of the
  hub's own located records of that 2011 LSOA, by the 2021 LSOA each record's point lies in.
  Where the store holds no such records, the row is left unconverted and says so.

The result is meant for publication, so the converted counts pass the disclosure rule again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from istvhub.disclosure.rules import DisclosureRule, protect

METHODS = ("unchanged", "merged", "split_by_records", "split_unresolved", "not_in_lookup")


def convert(
    agg: pd.DataFrame,
    lookup: pd.DataFrame,
    records: pd.DataFrame,
    rule: DisclosureRule,
    *,
    code_col: str = "lsoa_code",
    count_col: str = "count",
) -> pd.DataFrame:
    """``agg`` (2011 code, count) -> rows of (lsoa21_code, count, suppressed, method, from).

    ``records``: located records with ``lsoa_code`` (2011) and ``lsoa21_code`` (2021), the points
    that apportion split LSOAs."""
    a = agg[[code_col, count_col]].rename(columns={code_col: "lsoa_code", count_col: "n"})
    a["n"] = pd.to_numeric(a["n"], errors="coerce").fillna(0.0)
    a = a.groupby("lsoa_code", as_index=False)["n"].sum()
    change = lookup.drop_duplicates("lsoa_code").set_index("lsoa_code")["change"]
    a["change"] = a["lsoa_code"].map(change)
    parts = []
    direct = a[a["change"].isin(["U", "M"])].merge(
        lookup[["lsoa_code", "lsoa21_code"]], on="lsoa_code"
    )
    direct["method"] = np.where(direct["change"] == "U", "unchanged", "merged")
    parts.append(direct[["lsoa_code", "lsoa21_code", "n", "method"]])
    split = a[a["change"] == "S"]
    if len(split):
        r = records[records["lsoa_code"].isin(split["lsoa_code"]) & records["lsoa21_code"].notna()]
        share = (
            r.groupby(["lsoa_code", "lsoa21_code"]).size().rename("k").reset_index()
            if len(r)
            else pd.DataFrame(columns=["lsoa_code", "lsoa21_code", "k"])
        )
        share["k"] = share["k"].astype(float)
        share["w"] = share["k"] / share.groupby("lsoa_code")["k"].transform("sum")
        s = split.merge(share, on="lsoa_code", how="left")
        done = s["w"].notna()
        s.loc[done, "n"] = s.loc[done, "n"] * s.loc[done, "w"]
        s["method"] = np.where(done, "split_by_records", "split_unresolved")
        s.loc[~done, "lsoa21_code"] = None
        parts.append(s[["lsoa_code", "lsoa21_code", "n", "method"]])
    missing = a[a["change"].isna()].assign(lsoa21_code=None, method="not_in_lookup")
    parts.append(missing[["lsoa_code", "lsoa21_code", "n", "method"]])
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True)
    key = rows["lsoa21_code"].fillna("(unconverted) " + rows["lsoa_code"])
    out = (
        rows.assign(key=key)
        .groupby("key", sort=True)
        .agg(
            lsoa21_code=("lsoa21_code", "first"),
            n=("n", "sum"),
            method=("method", lambda m: "+".join(sorted(set(m)))),
            lsoa11_codes=("lsoa_code", lambda c: " ".join(sorted(set(c)))),
        )
        .reset_index(drop=True)
    )
    p = protect(out["n"], rule, total_shown=False)
    out["count"] = p["count"].to_numpy()
    out["suppressed"] = p["suppressed"].to_numpy()
    return out[["lsoa21_code", "count", "suppressed", "method", "lsoa11_codes"]]
