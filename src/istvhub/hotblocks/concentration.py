"""How concentrated violence is: Lorenz curve, Gini coefficient, share of units holding p%.

Computed on the *unsuppressed* counts inside the hub (suppression would bias them) over every
unit in scope, including units with no incident (Weisburd's "share of street segments" is a share
of all segments); only derived shares leave the hub, rounded (``PUBLISH_DP``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PUBLISH_DP = 1


@dataclass(frozen=True)
class Concentration:
    """Concentration of incidents over ``units`` units (blocks or hexes)."""

    units: int
    incidents: float
    gini: float
    #: % of units that hold 25% / 50% of incidents (fewest units, busiest first)
    pct_units_for_25: float
    pct_units_for_50: float
    #: Lorenz points: % of units (ascending counts) -> % of incidents
    lorenz: pd.DataFrame

    def published(self) -> dict[str, float]:
        """Rounded figures for a summary table."""
        return {
            "gini": round(self.gini, 3),
            "pct_units_for_25": round(self.pct_units_for_25, PUBLISH_DP),
            "pct_units_for_50": round(self.pct_units_for_50, PUBLISH_DP),
        }


def lorenz_points(counts: np.ndarray, n_points: int = 101) -> pd.DataFrame:
    """Lorenz curve sampled at ``n_points`` evenly spaced shares of units (0..100%)."""
    c = np.sort(np.asarray(counts, dtype="float64"))
    n = len(c)
    xs = np.linspace(0.0, 100.0, n_points)
    if n == 0 or c.sum() <= 0:
        return pd.DataFrame({"pct_units": xs, "pct_incidents": np.zeros(n_points)})
    cum = np.concatenate([[0.0], np.cumsum(c)]) / c.sum() * 100.0
    ux = np.linspace(0.0, 100.0, n + 1)
    ys = np.interp(xs, ux, cum)
    return pd.DataFrame({"pct_units": xs, "pct_incidents": np.round(ys, PUBLISH_DP)})


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of counts (0 = even, -> 1 = all in one unit), the exact discrete form."""
    c = np.sort(np.asarray(counts, dtype="float64"))
    n = len(c)
    total = c.sum()
    if n == 0 or total <= 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float((2.0 * np.sum(i * c)) / (n * total) - (n + 1) / n)


def pct_units_holding(counts: np.ndarray, share: float) -> float:
    """% of units (busiest first) needed to hold ``share`` (0..1) of all incidents."""
    c = np.sort(np.asarray(counts, dtype="float64"))[::-1]
    total = c.sum()
    if len(c) == 0 or total <= 0:
        return 0.0
    cum = np.cumsum(c)
    k = int(np.searchsorted(cum, share * total - 1e-9) + 1)
    return 100.0 * min(k, len(c)) / len(c)


def concentration(counts: np.ndarray | pd.Series) -> Concentration:
    """All concentration figures for one set of units."""
    c = np.asarray(counts, dtype="float64")
    c = np.where(np.isfinite(c), c, 0.0)
    return Concentration(
        units=len(c),
        incidents=float(c.sum()),
        gini=gini(c),
        pct_units_for_25=pct_units_holding(c, 0.25),
        pct_units_for_50=pct_units_holding(c, 0.5),
        lorenz=lorenz_points(c),
    )
