"""Equality breakdowns: counts by age band x sex x weapon x location type, safe to publish.

The published table is the full cube over the chosen dimensions *with every margin*: each
dimension gets an ``All`` level, so a 2-way table carries its row totals, column totals and the
grand total, and a k-way table carries every lower-order margin. Disclosure control:

1. **Primary suppression**: the configured rule (``disclosure_rules.toml``, default NHS HES:
   counts 1-7 hidden), applied to every cell *and every margin*.
2. **Secondary (complementary) suppression**: every *line* of the cube (the cells along one
   dimension with the other dimensions fixed, plus that line's ``All`` total) is an additive
   constraint ``sum(cells) = total``. A line with exactly one hidden entry gives that entry away by
   subtraction, so the smallest non-zero published entry of that line is hidden too. This is
   repeated over all lines of all dimensions until no line has exactly one hidden entry (a fixed
   point; hiding only ever grows, so it terminates). Zeros are chosen only when a line has no
   non-zero candidate. ONS and NHS guidance both require that a suppressed count cannot be
   recovered by differencing against totals (``../shared/DOMAIN.md``).
3. Published counts are perturbed by the cell-key method when the counts carry cell keys
   (``ckey``, docs/DISCLOSURE.md: the same records always give the same answer; a margin's key
   is the sum of its records' keys) and then rounded with the rule (totals are computed from the
   unrounded data and perturbed and rounded separately, so rows need not add up exactly; this is
   deliberate). Zeros are hidden like 1-7: a published 0 beside a hidden count would say
   which entries hold at least one record.

Which entries were hidden by which step is not published (that would narrow their values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

import numpy as np
import pandas as pd

from istvhub._errors import IstvhubError
from istvhub.disclosure.cellkey import KEY_SPACE, perturb
from istvhub.disclosure.rules import DisclosureRule
from istvhub.records import AGE_BANDS, LOCATION_TYPES, SEXES, WEAPONS

TOTAL = "All"
#: The dimensions a breakdown can use, with their levels in publication order.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "sex": SEXES,
    "weapon": WEAPONS,
    "location_type": LOCATION_TYPES,
}
DEFAULT_BY = ("age_band", "sex", "weapon", "location_type")
LABELS = {
    "age_band": "Age band",
    "sex": "Sex",
    "weapon": "Weapon",
    "location_type": "Location type",
}


class EqualityError(IstvhubError):
    """An equality breakdown cannot be made as asked (names the option, never data)."""


def parse_by(by: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"age_band,sex"`` -> ``("age_band", "sex")``, validated, order kept, no repeats."""
    if by is None or by == "" or by == ():
        return DEFAULT_BY
    parts = by.split(",") if isinstance(by, str) else [p for b in by for p in str(b).split(",")]
    out: list[str] = []
    for p in parts:
        p = p.strip().lower().replace("-", "_")
        if not p:
            continue
        if p not in DIMENSIONS:
            raise EqualityError(
                f"option --by: unknown dimension; choose from {', '.join(DIMENSIONS)}"
            )
        if p not in out:
            out.append(p)
    if not out:
        raise EqualityError("option --by: name at least one dimension")
    return tuple(out)


def cube_from_counts(counts: pd.DataFrame, by: tuple[str, ...], column: str = "n") -> np.ndarray:
    """Grouped counts (columns ``by`` + ``n``) -> the extended cube with an ``All`` slot (the last
    index) on every axis. Values outside a dimension's code list count as ``unknown``.
    ``column="ckey"`` sums the cell keys the same way (reduce mod 256 afterwards)."""
    shape = tuple(len(DIMENSIONS[d]) for d in by)
    inner = np.zeros(shape, dtype="float64")
    if len(counts):
        idx = []
        for d in by:
            levels = DIMENSIONS[d]
            pos = {v: i for i, v in enumerate(levels)}
            unk = levels.index("unknown")
            idx.append(
                np.array(
                    [pos.get(str(v), unk) if v is not None else unk for v in counts[d].tolist()],
                    dtype=int,
                )
            )
        np.add.at(inner, tuple(idx), counts[column].to_numpy(dtype="float64"))
    ext = inner
    for ax in range(len(by)):
        ext = np.concatenate([ext, ext.sum(axis=ax, keepdims=True)], axis=ax)
    return ext


def primary_suppression(ext: np.ndarray, rule: DisclosureRule) -> np.ndarray:
    """Cells (and margins) the rule hides on their own: 1-7 *and zero*. A published 0 beside a
    hidden 1-7 would tell "at least one record" from "none", and month-by-month or
    area-by-area queries would then locate incidents by presence (issue 14: zero and small are
    shown the same in every output). Raw (admin) tables hide nothing."""
    if rule.raw:
        return rule.is_suppressed(ext)
    hidden: np.ndarray = rule.is_suppressed(ext) | (np.asarray(ext, dtype="float64") == 0)
    return hidden


def secondary_suppression(ext: np.ndarray, hidden: np.ndarray, small: float = 7) -> np.ndarray:
    """Complementary suppression to a fixed point: no line along any axis (cells + its total) is
    left with exactly one hidden entry, nor with hidden cells whose sum (total minus the
    published cells) is 1..``small``: that sum would be a small count of the hidden cells taken
    together. Returns a new mask (``hidden`` is not modified)."""
    sup = hidden.copy()
    changed = True
    while changed:
        changed = False
        for ax in range(ext.ndim):
            v = np.moveaxis(ext, ax, -1).reshape(-1, ext.shape[ax])
            s = np.moveaxis(sup, ax, -1).reshape(-1, ext.shape[ax]).copy()
            hid_sum = np.where(s[:, :-1], v[:, :-1], 0).sum(axis=1)
            small_sum = ~s[:, -1] & (hid_sum > 0) & (hid_sum <= small + 0.5)
            lone = np.where((s.sum(axis=1) == 1) | (small_sum & (s.sum(axis=1) < s.shape[1])))[0]
            if not len(lone):
                continue
            vv, ss = v[lone], s[lone]
            # smallest non-zero published entry (ties: the first); zeros only as a last resort
            cand = np.where(~ss & (vv > 0), vv, np.inf)
            pick = np.argmin(cand, axis=1)
            none = ~np.isfinite(cand[np.arange(len(lone)), pick])
            if none.any():
                alt = np.where(~ss, vv, np.inf)
                pick[none] = np.argmin(alt[none], axis=1)
            s[lone, pick] = True
            sup = np.moveaxis(s.reshape(np.moveaxis(sup, ax, -1).shape), -1, ax)
            changed = True
    return sup


def protect_cube(
    ext: np.ndarray, rule: DisclosureRule, keys: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(published values with NaN where hidden, hidden mask) for an extended cube; ``keys``:
    the cell key of every entry (same shape), for the cell-key perturbation."""
    hidden = primary_suppression(ext, rule)
    if rule.secondary and not rule.raw:
        hidden = secondary_suppression(ext, hidden, rule.suppress_max)
    shown = ext
    if keys is not None and not rule.raw:
        k = np.asarray(keys, dtype="int64") % KEY_SPACE
        shown = perturb(ext.reshape(-1), k.reshape(-1), rule).reshape(ext.shape)
    out = np.where(hidden, np.nan, rule.round(shown))
    return out, hidden


@dataclass
class EqualityTable:
    """A published breakdown: long frame (``by`` columns + ``count`` + ``suppressed``)."""

    by: tuple[str, ...]
    frame: pd.DataFrame
    scope: str
    start: str
    end: str
    rule: DisclosureRule
    notes: list[str] = field(default_factory=list)

    def cell(self, **levels: str) -> float | None:
        """Published value of one entry (``All`` for unnamed dimensions); None when hidden."""
        m = np.ones(len(self.frame), dtype=bool)
        for d in self.by:
            m &= (self.frame[d] == levels.get(d, TOTAL)).to_numpy(dtype=bool)
        row = self.frame[m].iloc[0]
        return None if bool(row["suppressed"]) else float(row["count"])


def breakdown(
    counts: pd.DataFrame,
    by: tuple[str, ...],
    rule: DisclosureRule,
    *,
    scope: str,
    start: str,
    end: str,
) -> EqualityTable:
    """Grouped counts -> the disclosure-controlled table (pure: no IO)."""
    ext = cube_from_counts(counts, by)
    keys = cube_from_counts(counts, by, "ckey") if "ckey" in counts.columns else None
    values, hidden = protect_cube(ext, rule, keys)
    levels = [(*DIMENSIONS[d], TOTAL) for d in by]
    rows = list(product(*levels))
    frame = pd.DataFrame(rows, columns=list(by), dtype="string")
    frame["count"] = values.reshape(-1)
    frame["suppressed"] = hidden.reshape(-1)
    notes = [
        f"Disclosure control: {rule.label}. Hidden counts show as '*', zeros included (a '*' "
        "does not say whether there were any); some non-small counts are "
        "hidden as well (secondary suppression) so that no hidden count can be worked out from "
        "the totals.",
        "Totals are computed from the unrounded data and rounded separately: rows need not add "
        "up exactly.",
    ]
    return EqualityTable(
        by=by, frame=frame, scope=scope, start=start, end=end, rule=rule, notes=notes
    )
