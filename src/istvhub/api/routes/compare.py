"""/compare: ED assault attendances beside police-recorded violence (issue 9, point 1).

``POST /compare`` takes one police.uk file (multipart field ``police``: the street-level CSV or
an API JSON response); ``GET /compare`` uses the police files an administrator placed in
``<ISTVHUB_HOME>/police/`` (``*.csv``, ``*.json``). Query: ``from``, ``to`` (YYYY-MM),
``unit`` (blocks|hexes|lsoas|lsoas21|msoas21), ``format`` (csv|html|gpkg), ``borough``
(repeatable), ``h3_res``.

Rules as for the layers: a CSP analyst gets only their own boroughs (another borough -> 403;
none -> theirs); MOPAC London-wide or any borough; admins too. Every output is
disclosure-controlled (there is no unsuppressed comparison). ED analysts get none.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from istvhub.api.deps import require
from istvhub.api.scope import scoped_boroughs
from istvhub.api.upload import receive_upload
from istvhub.api.users import User
from istvhub.compare.report import write_comparison
from istvhub.compare.service import compare_from_store
from istvhub.core.config import Settings
from istvhub.core.periods import PERIOD_PATTERN
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.export import write_layers
from istvhub.hotblocks.harm import add_harm, month_index
from istvhub.hotblocks.service import read_records

router = APIRouter(tags=["compare"])

CompareReader = Annotated[User, Depends(require("csp_analyst", "mopac", "admin"))]
MEDIA = {
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "html": "text/html; charset=utf-8",
}
#: police.uk monthly files for all of London are ~10 MB; refuse anything far larger
MAX_POLICE_BYTES = 100 * 1024 * 1024


def _build(
    settings: Settings,
    police_files: list[Path],
    start: str,
    end: str,
    boroughs: tuple[str, ...],
    unit: str,
    fmt: str,
    h3_res: int,
    out_dir: Path,
) -> Path:
    from istvhub.api.layers_cache import network_for
    from istvhub.disclosure.rules import get_rule

    filters = Filters(period_from=start, period_to=end, boroughs=boroughs, h3_res=h3_res)
    c = compare_from_store(
        settings.db_url,
        police_files,
        filters,
        get_rule(None),
        unit=unit,
        network=network_for(settings.home),
        home=settings.home,
    )
    out = out_dir / f"compare_{start}_{end}_{unit}.{fmt}"
    write_comparison(c, out, fmt)
    return out


async def _respond(
    request: Request,
    user: User,
    police_files: list[Path],
    from_: str,
    to: str,
    unit: str,
    fmt: str,
    borough: list[str] | None,
    h3_res: int,
    work: Path,
) -> Response:
    if from_ > to:
        raise HTTPException(422, "field 'from': after 'to'")
    boroughs = scoped_boroughs(user, [b for b in (borough or []) if b.strip()])
    out = await run_in_threadpool(
        _build,
        request.app.state.settings,
        police_files,
        from_,
        to,
        boroughs,
        unit,
        fmt,
        h3_res,
        work,
    )
    return Response(
        out.read_bytes(),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{out.name}"'},
    )


FromQ = Annotated[str, Query(alias="from", pattern=PERIOD_PATTERN)]
ToQ = Annotated[str, Query(pattern=PERIOD_PATTERN)]
UnitQ = Annotated[str, Query(pattern="^(blocks|hexes|lsoas|lsoas21|msoas21)$")]
FormatQ = Annotated[str, Query(pattern="^(csv|html|gpkg)$")]
BoroughQ = Annotated[list[str] | None, Query()]
ResQ = Annotated[int, Query(ge=8, le=10)]


@router.post("/compare", response_model=None)
async def compare_upload(
    request: Request,
    user: CompareReader,
    from_: FromQ,
    to: ToQ,
    unit: UnitQ = "blocks",
    format: FormatQ = "csv",
    borough: BoroughQ = None,
    h3_res: ResQ = 9,
) -> Response:
    """Compare the ED data with one uploaded police.uk file (multipart field ``police``)."""
    settings = request.app.state.settings
    root = settings.home / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        form = await receive_upload(request, Path(tmp), MAX_POLICE_BYTES, file_field="police")
        return await _respond(
            request, user, [form.path], from_, to, unit, format, borough, h3_res, Path(tmp)
        )


@router.get("/compare", response_model=None)
async def compare_configured(
    request: Request,
    user: CompareReader,
    from_: FromQ,
    to: ToQ,
    unit: UnitQ = "blocks",
    format: FormatQ = "csv",
    borough: BoroughQ = None,
    h3_res: ResQ = 9,
) -> Response:
    """Compare the ED data with the police files configured in ``<home>/police/``."""
    pdir = request.app.state.settings.home / "police"
    files = sorted([*pdir.glob("*.csv"), *pdir.glob("*.json")]) if pdir.is_dir() else []
    if not files:
        raise HTTPException(404, "no police.uk files configured; POST one to /compare")
    root = request.app.state.settings.home / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        return await _respond(
            request, user, files, from_, to, unit, format, borough, h3_res, Path(tmp)
        )


# ------------------------------------------------------------------ harm-weighted hot blocks

LAYER_MEDIA = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "csv": "text/csv",
}


def _build_harm(
    settings: Settings, filters: Filters, as_of: str, fmt: str, layer: str, out_dir: Path
) -> Path:
    from istvhub.api.layers_cache import layer_file, network_for
    from istvhub.disclosure.rules import get_rule

    month_index(as_of)
    net = network_for(settings.home)
    records = read_records(settings.db_url, filters.period_from, filters.period_to, settings.home)
    layers = build_layers(
        records,
        net.index,
        filters,
        get_rule(None),
        lsoas=net.lsoas,
        gazetteer_version=str(net.version),
        areas21=net.areas21,
    )
    layers = add_harm(layers, records, net.index, filters, as_of=as_of, lsoas=net.lsoas)
    write_layers(layers, out_dir / f"hotblocks.{fmt}", fmt)
    return layer_file(out_dir, fmt, layer)


@router.get("/layers/harm", response_model=None, tags=["layers"])
async def harm_layers(
    request: Request,
    user: CompareReader,
    from_: FromQ,
    to: ToQ,
    as_of: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    borough: BoroughQ = None,
    h3_res: ResQ = 9,
    layer: Annotated[str, Query(pattern="^(blocks|hexes|lsoas|summary)$")] = "blocks",
    format: Annotated[str, Query(pattern="^(gpkg|geojson|csv)$")] = "gpkg",
) -> Response:
    """Hot blocks with ``harm_score`` beside ``count`` (docs/HARM.md): same scope and
    suppression rules as /layers/hotblocks, never unsuppressed. ``as_of`` defaults to ``to``."""
    if from_ > to:
        raise HTTPException(422, "field 'from': after 'to'")
    if format == "geojson" and layer == "summary":
        raise HTTPException(422, "field 'layer': the summary comes as csv or in the GeoPackage")
    boroughs = scoped_boroughs(user, [b for b in (borough or []) if b.strip()])
    filters = Filters(period_from=from_, period_to=to, boroughs=boroughs, h3_res=h3_res)
    settings = request.app.state.settings
    root = settings.home / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        path = await run_in_threadpool(
            _build_harm, settings, filters, as_of or to, format, layer, Path(tmp)
        )
        name = f"harm_{from_}_{to}" + (f"_{layer}" if format != "gpkg" else "") + f".{format}"
        return Response(
            path.read_bytes(),
            media_type=LAYER_MEDIA[format],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
