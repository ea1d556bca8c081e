"""An equality breakdown from a store, protected: what the CLI and the API both call."""

from __future__ import annotations

import re
from pathlib import Path

from istvhub.core.periods import check_period
from istvhub.disclosure.rules import get_rule
from istvhub.equality.core import EqualityError, EqualityTable, breakdown, parse_by
from istvhub.equality.read import read_counts
from istvhub.store.repos import Db

#: a Census 2021 LSOA (E01...) or MSOA (E02...) code
_AREA21 = re.compile(r"E0[12]\d{6}")


def build_table(
    db: Db,
    *,
    start: str,
    end: str,
    by: str | tuple[str, ...] | None = None,
    boroughs: tuple[str, ...] = (),
    department: str | None = None,
    rule_name: str | None = None,
    home: Path | None = None,
    areas21: tuple[str, ...] = (),
) -> EqualityTable:
    """Read counts and protect them (the CLI and the API call this)."""
    start = check_period(start, field_name="from", error=EqualityError)
    end = check_period(end, field_name="to", error=EqualityError)
    if start > end:
        raise EqualityError("option --from: must not be after --to")
    if boroughs and department:
        raise EqualityError("option --department: give a borough or a department, not both")
    for a in areas21:
        if not _AREA21.fullmatch(a.strip().upper()):
            raise EqualityError(
                "option --area: expected an LSOA 2021 (E01...) or MSOA 2021 (E02...) code"
            )
    areas21 = tuple(a.strip().upper() for a in areas21)
    dims = parse_by(by)
    rule = get_rule(rule_name)
    counts = read_counts(
        db,
        dims,
        start=start,
        end=end,
        boroughs=boroughs,
        department=department,
        home=home,
        areas21=areas21,
    )
    if department:
        scope = f"Department {department.upper()}"
    elif boroughs:
        scope = "Borough " + ", ".join(boroughs)
    else:
        scope = "London"
    if areas21:
        scope += " in " + ", ".join(areas21) + " (Census 2021 areas)"
    return breakdown(counts, dims, rule, scope=scope, start=start, end=end)
