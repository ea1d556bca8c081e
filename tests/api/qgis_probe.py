"""Load an OGC API - Features collection with QGIS's own OAPIF provider, headless.

Run by ``/usr/bin/python3`` (Debian's ``python3-qgis``; QGIS is not importable from the project
venv), never imported by the tests. Usage: ``python3 qgis_probe.py SPEC.json OUT.json``. SPEC
holds the ``url`` of the landing page, the ``typename`` and a list of ``cases``; each case signs
in as QGIS 3.22 users must: a *Basic* authentication configuration (user name + the token as the
password), stored in a throwaway auth database, referenced from the layer URI by ``authcfg``.
OUT gets, per case, whether the layer is valid, the provider's feature count and error, and
every feature's id and attributes as QGIS read them.
"""

from __future__ import annotations

import json
import os
import sys


def _layer_uri(
    url: str, typename: str, authcfg: str, page_size: int | None, in_view: bool = False
) -> str:
    from qgis.core import QgsDataSourceUri

    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", typename)
    if page_size:  # a small page makes QGIS follow the server's "next" links
        uri.setParam("pageSize", str(page_size))
    if in_view:  # "Only request features overlapping the view extent": QGIS sends bbox=
        uri.setParam("restrictToRequestBBOX", "1")
    uri.setAuthConfigId(authcfg)
    return uri.uri(False)


def _plain(value: object) -> object:
    """A QVariant-ish attribute as JSON (NULL -> None, QDateTime etc. -> str)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isNull") and value.isNull():
        return None
    return str(value)


def _error_text(layer: object) -> str:
    """The provider's error message (keep the QgsError alive: a temporary one crashes 3.22)."""
    err = layer.error()  # type: ignore[attr-defined]
    return str(err.summary()) if not err.isEmpty() else ""


def run_case(case: dict, url: str, typename: str, messages: list[str]) -> dict:
    from qgis.core import (
        QgsApplication,
        QgsAuthMethodConfig,
        QgsFeatureRequest,
        QgsRectangle,
        QgsVectorLayer,
    )

    messages.clear()

    cfg = QgsAuthMethodConfig("Basic")
    cfg.setName(case["name"])
    cfg.setConfig("username", case["username"])
    cfg.setConfig("password", case["password"])
    stored = QgsApplication.authManager().storeAuthenticationConfig(cfg)
    if isinstance(stored, tuple):  # (ok, config) in the 3.22 bindings
        stored = stored[0]
    uri = _layer_uri(url, typename, cfg.id(), case.get("page_size"), bool(case.get("bbox")))
    layer = QgsVectorLayer(uri, case["name"], "OAPIF")
    QgsApplication.processEvents()  # deliver the message log's queued signals
    out: dict = {
        "name": case["name"],
        "auth_stored": bool(stored),
        "uri_has_token": case["password"] in uri,
        "valid": layer.isValid(),
        "error": _error_text(layer),
        "messages": list(messages),  # what QGIS's message log said while loading
    }
    if not layer.isValid():
        return out
    out["feature_count"] = layer.featureCount()
    out["fields"] = [f.name() for f in layer.fields()]
    out["crs"] = layer.crs().authid()
    out["geometry_type"] = layer.geometryType()
    request = QgsFeatureRequest()
    if case.get("bbox"):  # as when the map canvas shows part of London
        request.setFilterRect(QgsRectangle(*case["bbox"]))
    feats = []
    for f in layer.getFeatures(request):
        attrs = {name: _plain(f[name]) for name in out["fields"]}
        feats.append({"attributes": attrs, "has_geometry": f.hasGeometry()})
    out["features"] = feats
    return out


def main() -> int:
    spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    try:
        am = QgsApplication.authManager()
        if not am.setMasterPassword(spec.get("master_password", "probe-only"), True):
            raise SystemExit("could not set the auth database's master password")
        messages: list[str] = []
        QgsApplication.messageLog().messageReceived.connect(
            lambda msg, tag, _level: messages.append(f"{tag}: {msg}")
        )
        results = [run_case(c, spec["url"], spec["typename"], messages) for c in spec["cases"]]
        with open(sys.argv[2], "w", encoding="utf-8") as fh:
            json.dump({"qgis_version": _version(), "cases": results}, fh)
    finally:
        app.exitQgis()
    return 0


def _version() -> str:
    from qgis.core import Qgis

    return str(Qgis.QGIS_VERSION)


if __name__ == "__main__":
    sys.exit(main())
