"""OGC API - Features (Part 1: Core, GeoJSON) for the suppressed hot-block layers, under /ogc.

A small implementation rather than pygeoapi: it sits behind our token auth and role scoping
(a CSP analyst's collections hold only their boroughs), needs no extra configuration, and serves
exactly the disclosure-controlled layers the downloads serve, so suppression lives in one place.
QGIS: Layer > Add Layer > Add WFS / OGC API - Features Layer, URL ``<base>/ogc``, with a Basic
authentication configuration holding the token as the password (every QGIS, 3.22 included) or,
from QGIS 3.30, an HTTP header ``Authorization: Bearer <token>`` (docs/SERVICE.md).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from istvhub.api.deps import LayerReader, StoreDep
from istvhub.api.ogc_collections import COLLECTIONS
from istvhub.api.scope import default_range, scoped_boroughs, wants_page
from istvhub.api.users import User
from istvhub.core.periods import PERIOD_PATTERN
from istvhub.hotblocks.aggregate import Filters
from istvhub.store import Store

router = APIRouter(prefix="/ogc", tags=["ogc"])

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
LONDON_BBOX = [-0.5104, 51.2868, 0.3340, 51.6919]
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000

_features_cache: dict[str, list[dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


#: QGIS keys its network cache by URL only: without ``no-store`` a layer added with another
#: (even a wrong) token was served the previous user's cached pages, and the scoped counts would
#: sit in the analyst's QGIS disk cache (tests/api/test_qgis.py showed both)
NO_STORE = {"Cache-Control": "private, no-store"}


def _json(body: Any, media: str = "application/json") -> JSONResponse:
    return JSONResponse(body, media_type=media, headers=NO_STORE)


@router.get("", response_model=None)
@router.get("/", response_model=None)
def landing(request: Request, _: LayerReader) -> JSONResponse | RedirectResponse:
    if wants_page(request):  # a person who opened the URL: show how to connect instead
        return RedirectResponse("/connect-qgis", status_code=303)
    b = _base(request)
    return _json(
        {
            "title": "istvhub hot blocks",
            "description": "Disclosure-controlled ISTV hot-block layers (counts 1-7 suppressed, "
            "others rounded to 5).",
            "links": [
                {"href": b, "rel": "self", "type": "application/json", "title": "this document"},
                {
                    "href": str(request.base_url) + "openapi.json",
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                    "title": "API definition",
                },
                {
                    "href": str(request.base_url) + "docs",
                    "rel": "service-doc",
                    "type": "text/html",
                    "title": "API documentation",
                },
                {"href": b + "/conformance", "rel": "conformance", "type": "application/json"},
                {"href": b + "/collections", "rel": "data", "type": "application/json"},
            ],
        }
    )


@router.get("/conformance")
def conformance(_: LayerReader) -> JSONResponse:
    return _json({"conformsTo": CONFORMANCE})


def _collection(request: Request, cid: str) -> dict[str, Any]:
    layer, _, title = COLLECTIONS[cid]
    b = _base(request)
    return {
        "id": cid,
        "title": title,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [LONDON_BBOX], "crs": CRS84}},
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            {"href": f"{b}/collections/{cid}", "rel": "self", "type": "application/json"},
            {"href": f"{b}/collections/{cid}/items", "rel": "items", "type": GEOJSON},
        ],
    }


@router.get("/collections")
def collections(request: Request, _: LayerReader) -> JSONResponse:
    b = _base(request)
    return _json(
        {
            "links": [{"href": f"{b}/collections", "rel": "self", "type": "application/json"}],
            "collections": [_collection(request, c) for c in COLLECTIONS],
        }
    )


@router.get("/collections/{collection_id}")
def collection(request: Request, collection_id: str, _: LayerReader) -> JSONResponse:
    if collection_id not in COLLECTIONS:
        raise HTTPException(404, "no such collection")
    return _json(_collection(request, collection_id))


def _parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if not bbox:
        return None
    try:
        parts = [float(p) for p in bbox.split(",")]
    except ValueError:
        raise HTTPException(400, "field 'bbox': expected minx,miny,maxx,maxy") from None
    if len(parts) == 6:  # 3-D bbox: drop the heights
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
        raise HTTPException(400, "field 'bbox': expected minx,miny,maxx,maxy")
    return parts[0], parts[1], parts[2], parts[3]


def _coords_bbox(coords: Any) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    walk(coords)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, -1.0, -1.0)


def _load_features(path: Path, id_col: str) -> list[dict[str, Any]]:
    key = str(path)
    with _cache_lock:
        hit = _features_cache.get(key)
    if hit is not None:
        return hit
    fc = json.loads(path.read_text(encoding="utf-8"))
    feats: list[dict[str, Any]] = []
    for f in fc.get("features", []):
        if not f.get("geometry"):
            continue
        props = f.get("properties") or {}
        f["id"] = str(props.get(id_col, len(feats)))
        f["_bbox"] = _coords_bbox(f["geometry"]["coordinates"])
        feats.append(f)
    with _cache_lock:
        if len(_features_cache) > 32:
            _features_cache.clear()
        _features_cache[key] = feats
    return feats


def _features_for(
    request: Request,
    store: Store,
    user: User,
    collection_id: str,
    period_from: str | None,
    period_to: str | None,
) -> list[dict[str, Any]]:
    from istvhub.api.layers_cache import build_cached, layer_file
    from istvhub.disclosure.rules import get_rule

    if collection_id not in COLLECTIONS:
        raise HTTPException(404, "no such collection")
    layer, id_col, _ = COLLECTIONS[collection_id]
    start, end = default_range(store)
    start, end = period_from or start, period_to or end
    filters = Filters(period_from=start, period_to=end, boroughs=scoped_boroughs(user, []))
    out_dir = build_cached(
        store, request.app.state.settings.home, filters, get_rule(None), "geojson"
    )
    return _load_features(layer_file(out_dir, "geojson", layer), id_col)


def _public(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f["id"],
        "geometry": f["geometry"],
        "properties": f.get("properties") or {},
    }


@router.get("/collections/{collection_id}/items")
async def items(
    request: Request,
    collection_id: str,
    user: LayerReader,
    store: StoreDep,
    bbox: str | None = None,
    limit: Annotated[int, Query(ge=1)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
    from_: Annotated[str | None, Query(alias="from", pattern=PERIOD_PATTERN)] = None,
    to: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
) -> JSONResponse:
    """Features with bbox filter and offset paging (``limit`` default 100, capped at 1000)."""
    limit = min(limit, MAX_LIMIT)
    box = _parse_bbox(bbox)
    feats = await run_in_threadpool(_features_for, request, store, user, collection_id, from_, to)
    if box is not None:
        x0, y0, x1, y1 = box
        feats = [
            f
            for f in feats
            if not (
                f["_bbox"][2] < x0 or f["_bbox"][0] > x1 or f["_bbox"][3] < y0 or f["_bbox"][1] > y1
            )
        ]
    matched = len(feats)
    page = feats[offset : offset + limit]
    base = f"{_base(request)}/collections/{collection_id}/items"
    keep = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}

    def link(rel: str, off: int) -> dict[str, Any]:
        from urllib.parse import urlencode

        q = urlencode({**keep, "limit": limit, "offset": off})
        return {"href": f"{base}?{q}", "rel": rel, "type": GEOJSON}

    links = [
        link("self", offset),
        {
            "href": f"{_base(request)}/collections/{collection_id}",
            "rel": "collection",
            "type": "application/json",
        },
    ]
    if offset + limit < matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    return _json(
        {
            "type": "FeatureCollection",
            "features": [_public(f) for f in page],
            "numberMatched": matched,
            "numberReturned": len(page),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": links,
        },
        GEOJSON,
    )


@router.get("/collections/{collection_id}/items/{feature_id}")
async def item(
    request: Request, collection_id: str, feature_id: str, user: LayerReader, store: StoreDep
) -> JSONResponse:
    feats = await run_in_threadpool(_features_for, request, store, user, collection_id, None, None)
    for f in feats:
        if f["id"] == feature_id:
            body = _public(f)
            body["links"] = [
                {
                    "href": f"{_base(request)}/collections/{collection_id}/items/{feature_id}",
                    "rel": "self",
                    "type": GEOJSON,
                },
                {
                    "href": f"{_base(request)}/collections/{collection_id}",
                    "rel": "collection",
                    "type": "application/json",
                },
            ]
            return _json(body, GEOJSON)
    raise HTTPException(404, "no such feature")
