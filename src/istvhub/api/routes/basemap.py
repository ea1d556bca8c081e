"""The map page's data: basemap GeoJSON, the hot layer as the map draws it, and its charts.

* ``/basemap/{area}.geojson``: streets, parks, the Thames, outlines and labels drawn from the
  gazetteer (:mod:`istvhub.api.basemap`); open data, so any signed-in user may read it.
* ``/map/units.geojson``: the same disclosure-controlled layer as ``/layers/hotblocks`` (it calls
  that route, so the role rules, defaults and audit are the same), trimmed for drawing: 5-decimal
  coordinates, and the borough of every H3 cell and LSOA added so a cell is never just an id.
* ``/map/profile``: the day-of-week x time-of-day grid and the monthly trend of the selection
  (:mod:`istvhub.hotblocks.profile`), through the same disclosure rule as the layer.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from istvhub.api.deps import LayerReader, StoreDep, UserDep
from istvhub.api.geo import round_coords
from istvhub.api.routes.layers import hotblocks
from istvhub.api.scope import default_range, scoped_boroughs
from istvhub.core.periods import PERIOD_PATTERN as PERIOD
from istvhub.hotblocks.aggregate import BadFilter, Filters, parse_days, parse_hours
from istvhub.hotblocks.assign import to_bng
from istvhub.hotblocks.profile import build_profile
from istvhub.hotblocks.service import layer_input

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(tags=["map"])
#: profiles by (filters, rule, store state) and the keyed records of the last period asked for:
#: a new upload or re-geocode changes the state, so nothing stale is served
_profile_lock = threading.Lock()
_profiles: dict[str, dict[str, Any]] = {}
_records: dict[tuple[Any, ...], pd.DataFrame] = {}


@contextmanager
def _in_words() -> Iterator[None]:
    """The disclosure query rules and filter errors, said in the page's words (422)."""
    from istvhub.disclosure.query import QueryTooFine, load_limits

    try:
        yield
    except QueryTooFine as exc:
        lim = load_limits()
        if "hours wide" in str(exc):
            msg = f"A time-of-day window must be at least {lim.min_hours_window} hours wide."
        else:
            msg = (
                "Time of day and day of week can only be chosen over a period of at least "
                f"{lim.time_filter_min_months} months: choose an earlier From month."
            )
        raise HTTPException(422, msg) from None
    except BadFilter as exc:
        text = str(exc)
        if "after --to" in text:
            text = "The From month is after the To month."
        raise HTTPException(422, text.replace("option --", "filter ")) from None


def _gzip_ok(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


@router.get("/basemap/{area}.geojson", response_model=None)
async def basemap(request: Request, user: UserDep, area: str) -> Response:
    """Basemap of ``london`` or one borough (name or slug, e.g. ``kensington-and-chelsea``)."""
    from istvhub.api.basemap import UnknownArea, basemap_file

    home = request.app.state.settings.home
    try:
        path = await run_in_threadpool(basemap_file, home, area)
    except UnknownArea:
        raise HTTPException(404, "field 'area': not London nor one of the 33 boroughs") from None
    headers = {"Cache-Control": "private, max-age=86400", "Vary": "Accept-Encoding"}
    if _gzip_ok(request):
        headers["Content-Encoding"] = "gzip"
        return FileResponse(
            path.with_suffix(".geojson.gz"), media_type="application/geo+json", headers=headers
        )
    return FileResponse(path, media_type="application/geo+json", headers=headers)


def _with_boroughs(fc: dict[str, Any], layer: str, home: Path) -> dict[str, Any]:
    """Add ``borough`` to H3 cells (the borough holding the cell's centre) and to LSOAs."""
    import h3
    import numpy as np
    import shapely

    from istvhub.api.basemap import gaz_for, gazetteer_version_dir

    feats = fc.get("features", [])
    if not feats:
        return fc
    gaz = gaz_for(gazetteer_version_dir(home))
    if layer == "hexes":
        bor = gaz.boroughs()
        ll = np.array([h3.cell_to_latlng(f["properties"]["hex_id"]) for f in feats])
        x, y = to_bng(ll[:, 1], ll[:, 0])
        tree = shapely.STRtree(bor.geometry.values)
        pi, bi = tree.query(shapely.points(x, y), predicate="within")
        names = bor["name"].astype(str).to_numpy()
        got = dict(zip(pi.tolist(), names[bi].tolist(), strict=True))
        for i, f in enumerate(feats):
            f["properties"]["borough"] = got.get(i, "outside London")
    elif layer.startswith("lsoa"):
        code = "lsoa21_code" if layer == "lsoas21" else "lsoa_code"
        table = gaz.table("lsoas21" if layer == "lsoas21" else "lsoas")
        if table is not None and "borough" in table.columns:
            lookup = dict(zip(table[code].astype(str), table["borough"].astype(str), strict=True))
            for f in feats:
                f["properties"]["borough"] = lookup.get(str(f["properties"].get(code)), "")
    return fc


@router.get("/map/units.geojson", response_model=None)
async def map_units(
    request: Request,
    user: LayerReader,
    store: StoreDep,
    from_: Annotated[str | None, Query(alias="from", pattern=PERIOD)] = None,
    to: Annotated[str | None, Query(pattern=PERIOD)] = None,
    borough: Annotated[list[str] | None, Query()] = None,
    weapon: Annotated[list[str] | None, Query()] = None,
    location_type: Annotated[list[str] | None, Query()] = None,
    hours: Annotated[str | None, Query(pattern=r"^\d{1,2}-\d{1,2}$")] = None,
    days: Annotated[str | None, Query(max_length=40)] = None,
    layer: Annotated[str, Query(pattern="^(blocks|hexes|lsoa|lsoas|lsoas21)$")] = "blocks",
    unsuppressed: bool = False,
) -> Response:
    """One layer of ``/layers/hotblocks`` (GeoJSON) as the map draws it."""
    with _in_words():
        resp = await hotblocks(
            request,
            user,
            store,
            from_=from_,
            to=to,
            borough=borough,
            weapon=weapon,
            location_type=location_type,
            hours=hours,
            days=days,
            h3_res=9,
            layer=layer,
            format="geojson",
            unsuppressed=unsuppressed,
        )
    path = resp.path
    if layer == "lsoa":
        layer = "lsoas21" if "lsoas21" in str(path) else "lsoas"

    def load() -> bytes:
        with open(path, encoding="utf-8") as fh:
            fc = json.load(fh)
        for f in fc.get("features", []):
            g = f.get("geometry")
            if g:
                g["coordinates"] = round_coords(g["coordinates"])
        fc = _with_boroughs(fc, layer, request.app.state.settings.home)
        fc["properties"] = {"layer": layer, "unsuppressed": bool(unsuppressed)}
        return json.dumps(fc, separators=(",", ":")).encode()

    data = await run_in_threadpool(load)
    headers = {"Cache-Control": "private, no-store", "Vary": "Accept-Encoding"}
    if _gzip_ok(request) and len(data) > 2048:
        data = gzip.compress(data, 5)
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type="application/geo+json", headers=headers)


@router.get("/map/profile")
async def map_profile(
    request: Request,
    user: LayerReader,
    store: StoreDep,
    from_: Annotated[str | None, Query(alias="from", pattern=PERIOD)] = None,
    to: Annotated[str | None, Query(pattern=PERIOD)] = None,
    borough: Annotated[list[str] | None, Query()] = None,
    weapon: Annotated[list[str] | None, Query()] = None,
    location_type: Annotated[list[str] | None, Query()] = None,
    hours: Annotated[str | None, Query(pattern=r"^\d{1,2}-\d{1,2}$")] = None,
    days: Annotated[str | None, Query(max_length=40)] = None,
    unsuppressed: bool = False,
) -> JSONResponse:
    """Day x time-of-day grid and trend of the selection, disclosure-controlled."""
    from istvhub.api.deps import audit
    from istvhub.disclosure.rules import get_rule

    if unsuppressed and user.role != "admin":
        raise HTTPException(403, "field 'unsuppressed': only administrators may ask for raw counts")
    boroughs = scoped_boroughs(user, [b for b in (borough or []) if b.strip()])
    start, end = (from_, to) if from_ and to else default_range(store)
    with _in_words():
        filters = Filters(
            period_from=start,
            period_to=end,
            boroughs=boroughs,
            weapons=tuple(weapon or ()),
            location_types=tuple(location_type or ()),
            hours=parse_hours(hours),
            days=parse_days(days),
        )
    rule = get_rule(None, unsuppressed=unsuppressed)
    if unsuppressed:
        audit(store, user, "map.profile.unsuppressed", json.dumps(filters.describe()), request)
    home = request.app.state.settings.home

    def build() -> dict[str, Any]:
        from istvhub.store.repos.records import data_state

        state = data_state(store)
        key = json.dumps([filters.describe(), rule.name, rule.raw, state, str(home)])
        with _profile_lock:
            if key in _profiles:
                return _profiles[key]
        rkey = (str(home), start, end, state)
        with _profile_lock:
            recs = _records.get(rkey)
        if recs is None:  # the keyed records of a period, shared by every filter over it
            recs = layer_input(store.current_records(period_from=start, period_to=end), home)
            with _profile_lock:
                _records.clear()
                _records[rkey] = recs
        out = build_profile(recs, filters, rule).as_dict()
        with _profile_lock:
            if len(_profiles) > 256:
                _profiles.clear()
            _profiles[key] = out
        return out

    with _in_words():
        out = await run_in_threadpool(build)
    out["filters"] = filters.describe()
    return JSONResponse(out, headers={"Cache-Control": "private, no-store"})
