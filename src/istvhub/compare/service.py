"""ED attendances beside police-recorded violence from a store: what the CLI and the API call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from istvhub.compare.core import Comparison, compare
from istvhub.compare.police import read_police
from istvhub.disclosure.rules import DisclosureRule
from istvhub.hotblocks.aggregate import Filters
from istvhub.hotblocks.service import read_records


def compare_from_store(
    db_url: str,
    police_files: list[Path],
    filters: Filters,
    rule: DisclosureRule,
    *,
    unit: str,
    network: Any,
    home: Path | None = None,
) -> Comparison:
    """IO edge shared by the CLI and the API: read the store and the police files, compare
    (``home``: whose installation secret keys the records)."""
    police = read_police(list(police_files))
    ed = read_records(db_url, filters.period_from, filters.period_to, home)
    blocks = getattr(network, "index", None) or network.blocks
    return compare(
        ed,
        police,
        blocks,
        filters,
        rule,
        unit=unit,
        lsoas=network.lsoas,
        boroughs=network.boroughs,
        gazetteer_version=str(network.version),
        areas21=getattr(network, "areas21", None),
    )
