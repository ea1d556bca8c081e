"""/layers/hotblocks: disclosure-controlled hot-block layers (GeoPackage, GeoJSON, CSV).

Rules: a CSP analyst gets only their own boroughs (another borough -> 403; no borough -> their
boroughs); MOPAC gets any borough or London-wide; both only ever get suppressed counts
(``unsuppressed=true`` -> 403). Admin may ask for unsuppressed counts, and every such request is
written to the audit log before anything is built. ED analysts get no layers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from istvhub.api.deps import LayerReader, StoreDep, audit
from istvhub.api.scope import default_range, scoped_boroughs
from istvhub.core.periods import PERIOD_PATTERN, month_add
from istvhub.hotblocks.aggregate import Filters, parse_days, parse_hours

router = APIRouter(tags=["layers"])

MEDIA = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "csv": "text/csv",
}


@router.get("/layers/hotblocks", response_model=None)
async def hotblocks(
    request: Request,
    user: LayerReader,
    store: StoreDep,
    from_: Annotated[str | None, Query(alias="from", pattern=PERIOD_PATTERN)] = None,
    to: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    borough: Annotated[list[str] | None, Query()] = None,
    weapon: Annotated[list[str] | None, Query()] = None,
    location_type: Annotated[list[str] | None, Query()] = None,
    hours: Annotated[str | None, Query(pattern=r"^\d{1,2}-\d{1,2}$")] = None,
    days: Annotated[str | None, Query(max_length=40)] = None,
    h3_res: Annotated[int, Query(ge=8, le=10)] = 9,
    layer: Annotated[
        str,
        Query(pattern="^(blocks|hexes|lsoa|lsoas|lsoas21|msoas21|summary|concentration)$"),
    ] = "blocks",
    format: Annotated[str, Query(pattern="^(gpkg|geojson|csv)$")] = "gpkg",
    unsuppressed: bool = False,
) -> FileResponse:
    """Hot blocks for a period; GeoPackage holds every layer, GeoJSON/CSV one ``layer``."""
    from istvhub.disclosure.rules import get_rule

    if unsuppressed and user.role != "admin":
        raise HTTPException(403, "field 'unsuppressed': only administrators may ask for raw counts")
    boroughs = scoped_boroughs(user, [b for b in (borough or []) if b.strip()])
    start, end = (from_, to) if from_ and to else default_range(store)
    if from_ and not to:
        start, end = from_, max(from_, default_range(store)[1])
    if to and not from_:
        start, end = month_add(to, -11), to
    filters = Filters(
        period_from=start,
        period_to=end,
        boroughs=boroughs,
        weapons=tuple(weapon or ()),
        location_types=tuple(location_type or ()),
        hours=parse_hours(hours),
        days=parse_days(days),
        h3_res=h3_res,
    )
    rule = get_rule(None, unsuppressed=unsuppressed)
    if unsuppressed:  # audited BEFORE the build: a failed build is still a request for raw data
        audit(
            store,
            user,
            "layers.unsuppressed",
            json_detail(filters.describe() | {"format": format, "layer": layer}),
            request,
        )
    if layer == "lsoa":  # the LSOA vintage of the period: 2021 areas from 2021 on (issue 19)
        layer = "lsoas21" if start >= "2021-01" else "lsoas"
    if format == "geojson" and layer in ("summary", "concentration"):
        raise HTTPException(422, "field 'layer': tables come as csv or inside the GeoPackage")
    settings = request.app.state.settings
    from istvhub.api.layers_cache import build_cached, layer_file

    out_dir = await run_in_threadpool(build_cached, store, settings.home, filters, rule, format)
    path = layer_file(out_dir, format, layer)
    tag = "UNSUPPRESSED-" if unsuppressed else ""
    name = f"{tag}hotblocks_{start}_{end}" + (f"_{layer}" if format != "gpkg" else "")
    name += {"gpkg": ".gpkg", "geojson": ".geojson", "csv": ".csv"}[format]
    return FileResponse(path, media_type=MEDIA[format], filename=name)


def json_detail(d: dict[str, Any]) -> str:
    import json

    return json.dumps(d, sort_keys=True)
