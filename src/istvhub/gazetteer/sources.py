"""Where each open-data source lives under the sources directory.

Files are found by glob under the sources directory so that a user's official full-size
downloads (e.g. every Code-Point area, the raw Price Paid CSV) drop in without renaming. The
readers are by family: ``read_areas`` (boundaries, postcodes, streets), ``read_points`` (points
of interest) and ``road_lines`` (street lines); ``raw`` holds the row shape they share.
"""

from __future__ import annotations

from pathlib import Path

from istvhub._errors import SourcesNotFound

#: Where each source lives under the sources directory (glob patterns; all matches).
SOURCE_GLOBS: dict[str, list[str]] = {
    "codepoint": [
        "postcodes/codepoint-open/Data/CSV/*.csv",
        "postcodes/**/Data/CSV/*.csv",
    ],  # e.g. codepo_gb/ as OS unzips it
    "codepoint_headers": [
        "postcodes/codepoint-open/Doc/Code-Point_Open_Column_Headers.csv",
        "postcodes/**/Code-Point_Open_Column_Headers.csv",
    ],
    "ons_lookup": ["postcodes/ons-lookup/*.csv"],
    "postcode_streets": ["streets/postcode-streets/*.csv", "streets/price-paid/*.csv"],
    "osm": [
        "streets/osm/*.geojson",
        "streets/osm/*.gpkg",
        "streets/osm/*.osm.pbf",
        "streets/osm/*.osm",
    ],
    # OpenStreetMap (OpenMapTiles, 2018) of west/central London: roads fill the gaps between
    # the OSM clips above; parks, POIs and places become entries (osm_layers.py)
    "osm_london": ["streets/osm-london-2018/*.gpkg"],
    "boroughs": ["boundaries/london_boroughs.gpkg"],
    "lsoas": ["boundaries/lsoa2011/*.json", "boundaries/lsoa2011/*.geojson"],
    # Census 2021 areas (optional: without them records carry 2011 codes only)
    "lsoas21": ["boundaries/census2021/*lsoa21*.gpkg"],
    "lsoa_lookup21": ["boundaries/census2021/*lsoa11_to_lsoa21*.csv"],
    "stations": ["transport/london_stations.csv"],
    "bus_stops": ["transport/tfl_bus_stops.csv"],
    "cycle_docks": ["transport/tfl_cycle_hire_docks*.csv"],
    "venues": ["venues/*.geojson"],
    "cqc_hospitals": ["health/cqc_*hospitals*.geojson"],
    "nhs_hospitals": ["health/nhs_*hospitals*.csv"],
    "schools": ["education/*schools*.geojson"],
    "wikipedia_areas": ["places/london_areas_wikipedia.csv"],
    "geonames": ["places/geonames*.csv"],
}

#: Sources without which no useful gazetteer can be built.
REQUIRED = ("codepoint", "boroughs", "postcode_streets")


def find_sources(root: Path) -> dict[str, list[Path]]:
    """Source name -> files matching any of its globs under ``root`` (sorted, so builds are
    reproducible)."""
    if not root or not Path(root).is_dir():
        raise SourcesNotFound(f"sources directory {str(root)!r} does not exist")
    root = Path(root)
    found: dict[str, list[Path]] = {}
    for name, globs in SOURCE_GLOBS.items():
        files = {p.resolve() for g in globs for p in root.glob(g) if p.is_file()}
        found[name] = sorted(files)
    for name in REQUIRED:
        if not found[name]:
            raise SourcesNotFound(
                f"sources directory lacks {name} (looked for {SOURCE_GLOBS[name][0]})"
            )
    return found
