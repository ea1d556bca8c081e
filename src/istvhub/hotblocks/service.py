"""IO edge of the hot-blocks stage: read the store and the gazetteer, build, write.

The CLI (``istvhub hotblocks``) and the API call :func:`hotblocks_from_store` and
:func:`write_outputs`; everything in between is the pure core in ``aggregate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from istvhub.disclosure.rules import DisclosureRule
from istvhub.gazetteer import load
from istvhub.hotblocks.aggregate import Filters, Layers, build_layers
from istvhub.hotblocks.assign import BlockIndex
from istvhub.hotblocks.export import write_layers
from istvhub.hotblocks.readscope import read_scope
from istvhub.hotblocks.report import write_report
from istvhub.store import Store

#: The only record columns the stage reads: no free text (location_text, weapon_text, reason),
#: no ids, nothing about the patient. ``matched_name`` is the gazetteer's name of the match,
#: used to keep a snap on the named street, and never written out.
RECORD_INPUT_COLUMNS = (
    "department",
    "period",
    "arrival_at",
    "incident_date",
    "incident_time",
    "weapon",
    "location_type",
    "geo_status",
    "match_type",
    "lat",
    "lon",
    "easting",
    "northing",
    "precision_m",
    "matched_name",
    "lsoa_code",
    "borough",
    "lsoa21_code",
    "msoa21_code",
)
#: What a layer build reads from the store: the input columns and the record id (turned into
#: the cell key in :func:`layer_input`, then dropped). Nothing else is fetched.
LAYER_READ_COLUMNS = (*RECORD_INPUT_COLUMNS, "record_id")


@dataclass
class NetworkInputs:
    """What the stage needs from the gazetteer."""

    blocks: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame | None
    boroughs: gpd.GeoDataFrame | None
    version: str
    areas21: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)  # lsoas21, msoas21


def load_network(home: Path | str | None = None) -> NetworkInputs:
    """Blocks, LSOAs and boroughs of the CURRENT gazetteer under ``home``."""

    gz = load(home)
    return NetworkInputs(
        blocks=gz.blocks,
        lsoas=gz.lsoas,
        boroughs=gz.boroughs,
        version=str(gz.version),
        areas21={"lsoas21": gz.lsoas21, "msoas21": gz.msoas21},
    )


def layer_input(df: pd.DataFrame, home: Path | None = None) -> pd.DataFrame:
    """Store records reduced to :data:`RECORD_INPUT_COLUMNS` plus ``record_key`` (the cell-key
    method's keyed 0-255 number of each record; the record id itself is dropped here)."""
    from istvhub.disclosure.cellkey import record_keys

    keys: np.ndarray | list[int] = (
        record_keys(df["record_id"].tolist(), home=home) if len(df) else []
    )
    for c in RECORD_INPUT_COLUMNS:
        if c not in df.columns:
            df[c] = None
    out = df[list(RECORD_INPUT_COLUMNS)].reset_index(drop=True)
    out["record_key"] = pd.Series(keys, dtype="int64")
    return out


def read_layer_records(
    db: Store,
    filters: Filters,
    index: BlockIndex,
    lsoas: gpd.GeoDataFrame | None,
    areas21: dict[str, gpd.GeoDataFrame] | None = None,
    home: Path | None = None,
) -> pd.DataFrame:
    """The records a build of ``filters`` needs, as :func:`layer_input` gives them: the period
    range, narrowed in the query to the filters every record of the build obeys and, with a
    borough filter, to the records that can reach the borough's units (``readscope``)."""
    from istvhub.store.repos.layers import layer_records

    df = layer_records(
        db,
        LAYER_READ_COLUMNS,
        period_from=filters.period_from,
        period_to=filters.period_to,
        scope=read_scope(index, filters.boroughs, filters.h3_res, lsoas, areas21),
        departments=filters.departments,
        weapons=filters.weapons,
        location_types=filters.location_types,
    )
    return layer_input(df, home)


def read_records(
    db_url: str, period_from: str, period_to: str, home: Path | None = None
) -> pd.DataFrame:
    """Current records of the period range, as :func:`layer_input` gives them."""
    from istvhub.store import open_store

    store = open_store(db_url)
    try:
        df = store.current_records(
            period_from=period_from, period_to=period_to, columns=LAYER_READ_COLUMNS
        )
    finally:
        store.dispose()
    return layer_input(df, home)


def hotblocks_from_store(
    db_url: str,
    filters: Filters,
    rule: DisclosureRule,
    *,
    network: NetworkInputs,
    home: Path | None = None,
) -> Layers:
    """Build the disclosure-controlled layers for ``filters`` from the store (``home``: whose
    installation secret keys the records)."""
    from istvhub.store import open_store

    index = BlockIndex(network.blocks)
    store = open_store(db_url)
    try:
        records = read_layer_records(store, filters, index, network.lsoas, network.areas21, home)
    finally:
        store.dispose()
    return build_layers(
        records,
        index,
        filters,
        rule,
        lsoas=network.lsoas,
        gazetteer_version=network.version,
        areas21=network.areas21,
    )


def write_outputs(
    layers: Layers,
    output: Path,
    fmt: str,
    report: Path | None = None,
    boroughs: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    """Write the layers (and the HTML report when asked); returns the files written."""
    files = write_layers(layers, output, fmt)
    if report is not None:
        files.append(write_report(layers, report, boroughs))
    return files
