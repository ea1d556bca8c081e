"""The OGC API - Features collections the hub serves: id -> (hot-block layer, feature id
column, title). The /ogc routes serve them and the connect-QGIS page lists them."""

from __future__ import annotations

COLLECTIONS: dict[str, tuple[str, str, str]] = {
    "hotblocks-blocks": ("blocks", "block_id", "Violence per street block (suppressed, rounded)"),
    "hotblocks-hexes": ("hexes", "hex_id", "Violence per H3 cell (suppressed, rounded)"),
    "hotblocks-lsoas": ("lsoas", "lsoa_code", "Violence per LSOA 2011 (suppressed, rounded)"),
    "hotblocks-lsoas21": (
        "lsoas21",
        "lsoa21_code",
        "Violence per LSOA 2021 (suppressed, rounded)",
    ),
    "hotblocks-msoas21": (
        "msoas21",
        "msoa21_code",
        "Violence per MSOA 2021 (suppressed, rounded)",
    ),
}
