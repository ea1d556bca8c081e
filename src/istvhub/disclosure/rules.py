"""The disclosure rules every count that leaves the hub goes through (docs/DISCLOSURE.md).

The rules are data (``istvhub/data/disclosure_rules.toml``): the default is the NHS Digital
HES/ECDS rule (counts 1-7 suppressed, the rest rounded to the nearest 5), with the
OpenSAFELY-equivalent and the ONS 10-5 rule as alternatives. Zero stays zero (it discloses nothing
about a person); suppressed cells become null with ``suppressed = True``. With cell keys
(:mod:`istvhub.disclosure.cellkey`) a published count is first perturbed by the ptable, so that
differences of overlapping queries do not give small counts back.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from istvhub._errors import DisclosureError, HotblocksError
from istvhub.core.config import DATA_DIR

RULES_FILE = DATA_DIR / "disclosure_rules.toml"


class UnknownDisclosureRule(DisclosureError, HotblocksError):
    """The requested disclosure rule is not in the rules file."""


@dataclass(frozen=True)
class DisclosureRule:
    """One rule: suppress counts in (0, suppress_max], round the rest to ``round_to``."""

    name: str
    label: str
    suppress_max: int
    round_to: int
    secondary: bool = True
    source: str = ""
    #: the unsuppressed pseudo-rule used by ``--unsuppressed`` (admins only)
    raw: bool = False

    @property
    def threshold(self) -> int:
        """The smallest count that may be published (8 for suppress 1-7)."""
        return self.suppress_max + 1

    def is_suppressed(self, values: np.ndarray) -> np.ndarray:
        """Which values must be hidden (non-zero and small)."""
        v = np.asarray(values, dtype="float64")
        if self.raw:
            return np.zeros(v.shape, dtype=bool)
        return (v > 0) & (v < self.suppress_max + 0.5)

    def round(self, values: np.ndarray) -> np.ndarray:
        """Round half up to the nearest ``round_to`` (8 -> 10, 12.5 -> 15)."""
        v = np.asarray(values, dtype="float64")
        if self.raw:
            return v
        return np.floor(v / self.round_to + 0.5) * self.round_to


#: Raw counts, only with an explicit ``--unsuppressed`` (and, in the API, an administrator).
UNSUPPRESSED = DisclosureRule(
    name="unsuppressed",
    label="UNSUPPRESSED raw counts: NOT FOR PUBLICATION",
    suppress_max=0,
    round_to=1,
    secondary=False,
    raw=True,
)


def load_rules(path: Path | None = None) -> tuple[str, dict[str, DisclosureRule]]:
    """(default rule name, all rules) from the TOML rules file."""
    p = Path(path) if path else RULES_FILE
    with p.open("rb") as fh:
        data = tomllib.load(fh)
    rules = {
        name: DisclosureRule(
            name=name,
            label=str(r.get("label", name)),
            suppress_max=int(r["suppress_max"]),
            round_to=int(r["round_to"]),
            secondary=bool(r.get("secondary", True)),
            source=str(r.get("source", "")),
        )
        for name, r in data.get("rules", {}).items()
    }
    default = str(data.get("default", next(iter(rules))))
    if default not in rules:
        raise UnknownDisclosureRule(f"file {p.name!r}: default rule is not defined")
    return default, rules


def get_rule(
    name: str | None = None, *, unsuppressed: bool = False, path: Path | None = None
) -> DisclosureRule:
    """The named rule (default from the rules file); ``unsuppressed`` gives raw counts."""
    if unsuppressed:
        return UNSUPPRESSED
    default, rules = load_rules(path)
    key = name or default
    if key not in rules:
        raise UnknownDisclosureRule(
            f"option --rule: unknown disclosure rule; known: {', '.join(sorted(rules))}"
        )
    return rules[key]


def protect(
    counts: pd.Series | np.ndarray,
    rule: DisclosureRule,
    *,
    total_shown: bool = True,
    cell_keys: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Apply ``rule`` to a vector of counts.

    Returns a frame (same index as a Series input) with ``count`` (float, null where suppressed)
    and ``suppressed`` (bool). With ``cell_keys`` (one per count, see ``cellkey.cell_keys``) every
    published count is perturbed by the ptable before rounding, and no secondary suppression is
    applied (the perturbation is what stops differencing). Without them, with ``secondary`` and a
    shown total, a lone suppressed cell drags the next smallest published cell into suppression.
    """
    idx = counts.index if isinstance(counts, pd.Series) else None
    raw = np.asarray(counts, dtype="float64")
    raw = np.where(np.isnan(raw), 0.0, raw)
    sup = rule.is_suppressed(raw)
    if cell_keys is not None and not rule.raw:
        from istvhub.disclosure.cellkey import perturb

        out = rule.round(perturb(raw, np.asarray(cell_keys), rule))
        out = np.where(sup, np.nan, out)
        return pd.DataFrame({"count": out, "suppressed": sup}, index=idx)
    if rule.secondary and total_shown and not rule.raw and sup.sum() == 1:
        candidates = np.where(~sup & (raw > 0))[0]
        if len(candidates):
            # smallest published cell; ties broken by position so the result is deterministic
            order = np.lexsort((candidates, raw[candidates]))
            sup[candidates[order[0]]] = True
    out = rule.round(raw)
    out = np.where(sup, np.nan, out)
    return pd.DataFrame({"count": out, "suppressed": sup}, index=idx)


def protect_total(total: float, rule: DisclosureRule, cell_key: int | None = None) -> float | None:
    """A total computed from unsuppressed data, put through the same rule (None if suppressed);
    with the cell key of the records it counts, perturbed like any other cell."""
    t = np.array([float(total)])
    if rule.is_suppressed(t)[0]:
        return None
    if cell_key is not None and not rule.raw:
        from istvhub.disclosure.cellkey import perturb

        t = perturb(t, np.array([cell_key]), rule)
    return float(rule.round(t)[0])


def format_count(value: float | None) -> str:
    """How a published count is printed in tables and reports: ``*`` when suppressed."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "*"
    return f"{value:,.0f}"
