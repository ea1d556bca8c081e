"""Who a file belongs to and what it may replace: row keys, department identity, replacements.

- A row key column holding NHS numbers is refused (issue 14, point 2): even keyed, an id built
  from an NHS number ties the hub's record to the patient's health record.
- A file whose content, layout or name points at another department than the one it is filed
  under is refused naming both codes (point 4).
- A new version that drops most rows or changes layout from the department's previous month is a
  *replacement* and needs an explicit confirmation (``--confirm-replace`` / ``confirm_replace``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from istvhub._errors import FileRejected
from istvhub.pii import is_valid_nhs_number

#: national formats many departments send; every other layout (a PAS or UCC export, an onboarding
#: mapping) is one department's local system, so it says whose file it is
SHARED_LAYOUTS = frozenset({"istv_mds", "ecds", "generic", "nil"})
#: a new version with fewer than this share of the current version's rows needs confirmation
MIN_KEPT_SHARE = 0.5


def refuse_nhs_number_keys(key: pd.Series, rows: pd.Series, *, file: str, field: str) -> None:
    """Refuse a row key column that holds NHS numbers (never saying which value).

    A key is NHS-like when it is ten digits (any punctuation) passing the modulus-11 check. Random
    ten-digit attendance numbers pass one time in eleven, so the column is refused when at least
    half of its ten-digit keys pass (or the only ones that are ten digits do).
    """
    n_ten = n_valid = 0
    first_valid = None
    for i in range(0, len(key), _KEY_ROWS):  # a part at a time: the keys become Python strings
        k = key.iloc[i : i + _KEY_ROWS].dropna().astype(str)
        if k.empty:
            continue
        ten = k.str.replace(r"\D", "", regex=True).str.len().eq(10) & k.str.len().le(16)
        ten &= ~k.str.contains(r"[A-Za-z]", regex=True)
        if not ten.any():
            continue
        valid = k[ten].map(is_valid_nhs_number)
        n_ten += int(ten.sum())
        n_valid += int(valid.sum())
        if first_valid is None and valid.any():
            first_valid = valid[valid].index[0]
    if n_valid and n_valid >= 0.5 * n_ten:
        first = int(rows.loc[first_valid])
        raise FileRejected(
            "the row key column holds NHS numbers: use the attendance identifier instead "
            "(NHS numbers must not be uploaded)",
            file=file,
            row=first,
            field=field,
        )


#: keys checked at a time by :func:`refuse_nhs_number_keys` (issue 14 point 7)
_KEY_ROWS = 50_000


@dataclass
class Previous:
    """What a new version would replace: the current version of the same month, or the
    department's latest earlier month when the month is new."""

    period: str
    version: int
    rows: int
    adapter: str
    same_month: bool


def previous_version(store, department: str, period: str) -> Previous | None:
    subs = store.submissions(department, current_only=True)
    if subs.empty:
        return None
    same = subs[subs["period"] == period]
    if len(same):
        r = same.iloc[0]
        return Previous(period, int(r["version"]), int(r["rows_accepted"]), str(r["adapter"]), True)
    earlier = subs[(subs["period"] < period) & (subs["rows_accepted"] > 0)]
    if earlier.empty:
        return None
    r = earlier.sort_values("period").iloc[-1]
    return Previous(
        str(r["period"]), int(r["version"]), int(r["rows_accepted"]), str(r["adapter"]), False
    )


def replacement_reason(prev: Previous | None, rows: int, adapter: str) -> str | None:
    """Why this upload needs ``confirm_replace``, or None.

    Dropping most rows is judged only against the same month's current version (a quiet month is
    not a replacement); a layout change against the previous version of the month, or the
    department's previous month.
    """
    if prev is None:
        return None
    base, before = adapter_family(adapter), adapter_family(prev.adapter)
    if base != before and {base, before} <= _registered():
        return (
            f"the layout changed from {prev.adapter} (period {prev.period} version {prev.version}) "
            f"to {adapter}"
        )
    if prev.same_month and prev.rows > 0 and rows < MIN_KEPT_SHARE * prev.rows:
        return (
            f"it has {rows} records where the current version {prev.version} of {prev.period} "
            f"has {prev.rows}"
        )
    return None


def _registered() -> set[str]:
    """Layout names a change between which is a layout change (not nil, not a test seed)."""
    from istvhub.ingest.layouts import all_layouts

    return {adapter_family(lay.name) for lay in all_layouts()} | {"generic"}


def adapter_family(name: str) -> str:
    """mapping:<file> and mapping:<name> count as their layout name."""
    return re.sub(r"^mapping:", "", name or "").rsplit("/", 1)[-1].removesuffix(".toml")


def check_names(
    filename: str, department: str, *, by_name: str | None, by_text: str | None
) -> None:
    """Refuse a file whose name or title rows name another registered department."""
    for other, where in ((by_name, "file name"), (by_text, "title rows")):
        if other and other != department:
            raise FileRejected(
                f"the {where} points at department {other} but the file is filed under "
                f"{department}: upload each department's file under its own code",
                file=filename,
                field=where,
            )


def check_layout_owner(
    store, filename: str, department: str, layout: str, *, confirmed: bool = False
) -> None:
    """Refuse a layout that only one *other* department uses and this one never has (Homerton's
    semicolon PAS export filed under St Thomas'), unless the uploader confirms it."""
    if confirmed or adapter_family(layout) in SHARED_LAYOUTS:
        return
    subs = store.submissions(current_only=True)
    if subs.empty:
        return
    users_of = subs.loc[subs["adapter"].map(adapter_family) == adapter_family(layout), "department"]
    owners = set(users_of.astype(str))
    if department in owners or len(owners) != 1:
        return
    (other,) = owners
    raise FileRejected(
        f"the file's layout ({layout}) is department {other}'s, and {department} has never sent "
        f"it: this looks like {other}'s file filed under {department}. If it really is "
        f"{department}'s, upload again with --confirm-replace (API: confirm_replace=true)",
        file=filename,
        field="layout",
    )
