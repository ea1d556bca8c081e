"""The FastAPI application: a thin door onto the same stage functions as the CLI.

``create_app(settings)`` builds an app bound to one data directory and database; ``app_from_env``
is the factory uvicorn workers call (settings from ``ISTVHUB_*`` environment variables).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from istvhub import __version__
from istvhub._errors import (
    ConfirmationRequired,
    FileRejected,
    GazetteerNotBuilt,
    IstvhubError,
    StoreError,
)
from istvhub.api.words import api_words
from istvhub.core.config import Settings

API_DIR = Path(__file__).resolve().parent


def _error_body(exc: IstvhubError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": api_words(str(exc)), "error": type(exc).__name__}
    if isinstance(exc, FileRejected):
        body.update(file=exc.file, row=exc.row, field=exc.field)
    return body


def _warm_up(app: FastAPI) -> None:
    """Open the store, load the block index and the geocoder before the first request needs
    them (20 uploads arriving at a cold worker would otherwise all wait for Geocoder.load)."""
    import logging

    from istvhub.api.deps import ensure_store

    try:
        store = ensure_store(app)
        if (app.state.settings.gazetteer_dir / "CURRENT").is_file():
            # lazy: only a warmed-up server (istvhub serve) pays for loading the geocoder
            from istvhub.api.layers_cache import network_for
            from istvhub.geocode.shared import shared_geocoder

            network_for(app.state.settings.home)
            shared_geocoder(app.state.settings.home, store.url)  # the same key uploads use
    except Exception as exc:  # noqa: BLE001 - warm-up is an optimisation; requests still work
        logging.getLogger(__name__).warning("warm-up skipped: %s", type(exc).__name__)


def create_app(settings: Settings | None = None, *, warm_up: bool = False) -> FastAPI:
    """An app serving one hub (``settings.home`` / ``settings.db_url``); ``warm_up`` loads the
    street-block index in the background at start (what `istvhub serve` does)."""
    if settings is None:
        settings = Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from istvhub.api.upload import clean_uploads

        clean_uploads(settings.home)  # raw uploads a crashed worker left behind
        if warm_up:
            import threading

            threading.Thread(
                target=_warm_up, args=(app,), daemon=True, name="istvhub-warm-up"
            ).start()
        yield
        store = getattr(app.state, "store", None)
        if store is not None:
            store.dispose()

    app = FastAPI(
        title="istvhub",
        version=__version__,
        description="ISTV hub: ED uploads, geocoding, disclosure-controlled hot-block layers, "
        "compliance. Every endpoint but /health needs `Authorization: Bearer <token>`.",
        lifespan=lifespan,
        docs_url=None,  # served below from vendored Swagger UI: no CDN
        redoc_url=None,
        openapi_url=None,  # served below behind a token, like every endpoint but /health
    )
    app.state.settings = settings
    app.state.store = None
    from istvhub.api.headers import SecurityHeaders

    app.add_middleware(SecurityHeaders)

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # 422 naming the fields, never echoing what was sent: it may be record text, and
        # undecodable bytes made FastAPI's default handler fail with a 500
        errs = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errs}, status_code=422)

    @app.exception_handler(ConfirmationRequired)
    async def _confirm(request: Request, exc: ConfirmationRequired) -> JSONResponse:
        return JSONResponse(_error_body(exc), status_code=409)

    @app.exception_handler(FileRejected)
    async def _rejected(request: Request, exc: FileRejected) -> JSONResponse:
        return JSONResponse(_error_body(exc), status_code=422)

    @app.exception_handler(GazetteerNotBuilt)
    async def _no_gaz(request: Request, exc: GazetteerNotBuilt) -> JSONResponse:
        return JSONResponse(_error_body(exc), status_code=503)

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(_error_body(exc), status_code=503)

    @app.exception_handler(IstvhubError)
    async def _other(request: Request, exc: IstvhubError) -> JSONResponse:
        return JSONResponse(_error_body(exc), status_code=400)

    from istvhub.api.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    from istvhub.api.routes import compare as compare_routes  # issue 9.1

    app.include_router(compare_routes.router)
    from istvhub.api.routes import equality as equality_routes  # issue 9.3
    from istvhub.api.routes import feedback as feedback_routes  # issue 9.4

    app.include_router(equality_routes.router)
    app.include_router(feedback_routes.router)
    static = API_DIR / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")

    from fastapi import Depends

    from istvhub.api.deps import current_user

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(current_user)])
    def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(current_user)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="istvhub API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    return app


def app_from_env() -> FastAPI:
    """uvicorn factory (``--workers`` needs an import string): settings from the environment."""
    return create_app(Settings(), warm_up=True)
