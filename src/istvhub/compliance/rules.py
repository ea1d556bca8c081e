"""The compliance rules: data in ``istvhub/data/compliance.toml`` (written in words in
docs/COMPLIANCE.md), read into a frozen :class:`Rules` whose defaults equal the shipped file."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from istvhub._errors import IstvhubError
from istvhub.compliance.columns import CELL_COLUMNS
from istvhub.core.config import DATA_DIR

RULES_PATH = DATA_DIR / "compliance.toml"


class ComplianceError(IstvhubError):
    """A compliance request or rules file is invalid (bad period, bad TOML)."""


@dataclass(frozen=True)
class Threshold:
    metric: str
    min: float
    label: str


@dataclass(frozen=True)
class Rules:
    """The compliance rules (see compliance.toml); defaults equal the shipped file."""

    due_day: int = 20
    timezone: str = "Europe/London"
    red_breaches: int = 2
    late_counts_as_breach: bool = False
    thresholds: tuple[Threshold, ...] = (
        Threshold("complete_location_text", 0.90, "location text present"),
        Threshold("share_located_of_non_home", 0.60, "non-home records located"),
    )
    window_months: int = 12
    min_ok_months: int = 10
    ok_rags: tuple[str, ...] = ("green", "amber")
    trailing_months: int = 6
    min_history: int = 3
    drop_fraction: float = 0.5
    drop_counts_as_breach: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["thresholds"] = [asdict(t) for t in self.thresholds]
        d["ok_rags"] = list(self.ok_rags)
        return d


def load_rules(path: str | Path | None = None) -> Rules:
    """Read the rules TOML (default: the shipped ``istvhub/data/compliance.toml``)."""
    p = Path(path) if path else RULES_PATH
    try:
        with p.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ComplianceError(
            f"file {p.name!r}: cannot read compliance rules ({type(exc).__name__})"
        ) from None
    dl, rag = raw.get("deadline", {}), raw.get("rag", {})
    con, drop = raw.get("consistency", {}), raw.get("drop_flag", {})
    base = Rules()
    try:
        ths = tuple(
            Threshold(str(t["metric"]), float(t["min"]), str(t.get("label", t["metric"])))
            for t in rag.get("thresholds", [asdict(t) for t in base.thresholds])
        )
        rules = Rules(
            due_day=int(dl.get("due_day", base.due_day)),
            timezone=str(dl.get("timezone", base.timezone)),
            red_breaches=int(rag.get("red_breaches", base.red_breaches)),
            late_counts_as_breach=bool(rag.get("late_counts_as_breach", False)),
            thresholds=ths,
            window_months=int(con.get("window_months", base.window_months)),
            min_ok_months=int(con.get("min_ok_months", base.min_ok_months)),
            ok_rags=tuple(con.get("ok_rags", base.ok_rags)),
            trailing_months=int(drop.get("trailing_months", base.trailing_months)),
            min_history=int(drop.get("min_history", base.min_history)),
            drop_fraction=float(drop.get("fraction", base.drop_fraction)),
            drop_counts_as_breach=bool(drop.get("counts_as_breach", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ComplianceError(f"file {p.name!r}: invalid compliance rules ({exc})") from None
    for t in rules.thresholds:
        if t.metric not in CELL_COLUMNS:
            raise ComplianceError(f"file {p.name!r}, field 'metric': unknown metric {t.metric!r}")
    if not 1 <= rules.due_day <= 31:
        raise ComplianceError(f"file {p.name!r}, field 'due_day': must be 1..31")
    if not 1 <= rules.min_ok_months <= rules.window_months:
        raise ComplianceError(f"file {p.name!r}, field 'min_ok_months': must be 1..window_months")
    return rules
