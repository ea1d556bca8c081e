"""QGIS for real (issue 18.6): QGIS's own OGC API - Features provider (``OAPIF``), as Debian 12
ships it (QGIS 3.22, which cannot add an ``Authorization: Bearer`` header), loads a collection
from a running ``istvhub serve`` with a *Basic* authentication configuration holding the token
as the password, and reads the same features and attributes as the API's JSON. A wrong or a
revoked token gives an invalid layer. GDAL's OAPIF driver (it comes with python3-qgis) is checked
with ``GDAL_HTTP_AUTH=BASIC`` as docs/SERVICE.md tells GDAL users. QGIS runs headless in
``/usr/bin/python3`` (``tests/api/qgis_probe.py``), since it is not importable from the venv."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from _server import running_server

SYSTEM_PYTHON = Path("/usr/bin/python3")
PROBE = Path(__file__).with_name("qgis_probe.py")
COLLECTION = "hotblocks-blocks"
MONTH = "2025-06"


def _qgis_importable() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    r = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import qgis.core"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        timeout=60,
    )
    return r.returncode == 0


if not _qgis_importable():
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the QGIS test: apt-get install python3-qgis")
    pytest.skip("/usr/bin/python3 cannot import qgis.core (python3-qgis)", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def qgis_server(tmp_path_factory: pytest.TempPathFactory, gazetteer_home: Path):
    """`istvhub serve` on a temp SQLite DB with the real gazetteer, located records for one
    month (Westminster and Camden blocks) and a Westminster CSP analyst; one per module, as the
    tests only read."""
    from api.conftest import seed_located  # tests/api/conftest.py (tests/ is on sys.path)
    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    tmp = tmp_path_factory.mktemp("qgis-hub")
    home = tmp / "home"
    home.mkdir()
    (home / "gazetteer").symlink_to(gazetteer_home / "gazetteer", target_is_directory=True)
    db = f"sqlite:///{tmp / 'hub.db'}"
    store = open_app_store(Settings(home=home, db=db))
    token = users.add_user(
        store.engine, "csp-westminster", "csp_analyst", boroughs=["Westminster"]
    )[1]
    # a token that worked once: its user was revoked (QGIS would still hold it in its auth db)
    revoked = users.add_user(store.engine, "csp-left", "csp_analyst", boroughs=["Westminster"])[1]
    users.revoke_user(store.engine, "csp-left")
    seeded = seed_located(SimpleNamespace(store=store), gazetteer_home, period=MONTH)
    with running_server(home, db, tmp / "server.log") as base:
        yield SimpleNamespace(
            base=base, token=token, revoked=revoked, blocks=seeded.blocks, log=tmp / "server.log"
        )
    store.dispose()


def run_qgis(tmp_path: Path, url: str, cases: list[dict]) -> dict:
    """Run the probe in Debian's python with a throwaway QGIS profile and auth database."""
    qhome = tmp_path / "qgis-home"
    (qhome / "auth").mkdir(parents=True)
    spec = tmp_path / "qgis-spec.json"
    out = tmp_path / "qgis-out.json"
    spec.write_text(json.dumps({"url": url, "typename": COLLECTION, "cases": cases}))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(qhome),  # QGIS writes its settings and caches under $HOME
        "XDG_RUNTIME_DIR": str(qhome),
        "QT_QPA_PLATFORM": "offscreen",
        "QGIS_AUTH_DB_DIR_PATH": str(qhome / "auth"),
        "LANG": "C.UTF-8",
    }
    r = subprocess.run(
        [str(SYSTEM_PYTHON), str(PROBE), str(spec), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=qhome,
    )
    assert r.returncode == 0 and out.exists(), r.stdout[-2000:] + r.stderr[-3000:]
    return json.loads(out.read_text())


def api_features(base: str, token: str) -> list[dict]:
    """The collection as the API's own JSON gives it (Bearer, one big page)."""
    r = httpx.get(
        f"{base}/ogc/collections/{COLLECTION}/items",
        params={"limit": 1000},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["numberMatched"] == len(body["features"])
    return body["features"]


def test_qgis_oapif_provider_reads_the_collection_with_a_basic_auth_config(qgis_server, tmp_path):
    srv = qgis_server
    want = api_features(srv.base, srv.token)
    assert want, "the seeded month should publish some Westminster blocks"
    assert {f["properties"]["borough"] for f in want} == {"Westminster"}
    box = _padded_bbox(want[0]["geometry"]["coordinates"], pad=0.0002)
    in_box = {f["properties"]["block_id"] for f in want if _overlaps(_bbox_of(f), box)}
    assert len(in_box) < len(want)  # the view must leave something out to mean anything
    got = run_qgis(
        tmp_path,
        srv.base + "/ogc",
        [
            {"name": "right", "username": "qgis-user", "password": srv.token},
            # a page smaller than the collection: QGIS must follow the server's "next" links
            {"name": "paged", "username": "qgis-user", "password": srv.token, "page_size": 1},
            # a view around the first feature only: QGIS sends bbox= in lon/lat order
            {"name": "bbox", "username": "qgis-user", "password": srv.token, "bbox": box},
            {"name": "wrong", "username": "qgis-user", "password": "istv_" + "x" * 43},
            {"name": "revoked", "username": "qgis-user", "password": srv.revoked},
        ],
    )
    assert got["qgis_version"].startswith("3.")
    right, paged, in_view, wrong, revoked = got["cases"]

    for case in (right, paged):
        assert case["auth_stored"] and not case["uri_has_token"]  # the token stays in the auth db
        assert case["valid"], case["error"]
        assert case["crs"] in ("OGC:CRS84", "EPSG:4326")
        assert case["feature_count"] == len(want)
        assert len(case["features"]) == len(want)
        assert all(f["has_geometry"] for f in case["features"])
        # every attribute of the API's JSON, with the same value, as QGIS read it
        props = want[0]["properties"]
        assert set(props) <= set(case["fields"]), (sorted(props), case["fields"])
        by_id = {f["properties"]["block_id"]: f["properties"] for f in want}
        for feat in case["features"]:
            attrs = feat["attributes"]
            expected = by_id[attrs["block_id"]]
            for key, value in expected.items():
                assert _same(attrs[key], value), (key, attrs[key], value)
        assert {f["attributes"]["block_id"] for f in case["features"]} == set(by_id)
    assert in_view["valid"], in_view["error"]
    assert {f["attributes"]["block_id"] for f in in_view["features"]} == in_box

    # the disclosure rule and the scope hold in QGIS too: the quiet block (3 records) and the
    # Camden block are not there, the published counts are rounded
    quiet = {b["block_id"] for b in srv.blocks if b["n"] < 8 or b["borough"] != "Westminster"}
    assert quiet and not quiet & {f["attributes"]["block_id"] for f in right["features"]}
    assert all(f["attributes"]["count"] % 5 == 0 for f in right["features"])

    # a wrong token, in the same QGIS session: nothing served from QGIS's cache, the server
    # refuses the Basic credentials at the landing page and the layer is invalid
    # (and a revoked one likewise)
    for refused in (wrong, revoked):
        assert not refused["valid"] and "features" not in refused
        assert any("authentication" in m for m in refused["messages"]), refused["messages"]
    log = srv.log.read_text(errors="replace")
    assert log.count('"GET /ogc HTTP/1.1" 401') >= 2
    # QGIS followed the paging links of the one-feature pages
    assert "limit=1&offset=1" in log
    assert "bbox=" in log  # the view was asked of the server, not only filtered in QGIS


def _same(qgis_value: object, api_value: object) -> bool:
    if api_value is None:
        return qgis_value in (None, "")
    if isinstance(api_value, float) or isinstance(qgis_value, float):
        return qgis_value is not None and abs(float(qgis_value) - float(api_value)) < 1e-9
    return qgis_value == api_value or str(qgis_value) == str(api_value)


def test_gdal_oapif_driver_reads_the_collection_with_basic_credentials(qgis_server, tmp_path):
    """The GDAL line of docs/SERVICE.md, with Debian's GDAL (it comes with python3-qgis):
    ``GDAL_HTTP_AUTH=BASIC GDAL_HTTP_USERPWD=me:istv_...`` and the ``OAPIF:`` driver."""
    srv = qgis_server
    want = {f["properties"]["block_id"]: f["properties"] for f in api_features(srv.base, srv.token)}

    def ogr2ogr(password: str, dest: Path) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "GDAL_HTTP_AUTH": "BASIC",
            "GDAL_HTTP_USERPWD": f"me:{password}",
        }
        cmd = ["/usr/bin/ogr2ogr", "-f", "GeoJSON", str(dest), f"OAPIF:{srv.base}/ogc"]
        return subprocess.run(
            [*cmd, COLLECTION], env=env, capture_output=True, text=True, timeout=60
        )

    r = ogr2ogr(srv.token, tmp_path / "gdal.geojson")
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads((tmp_path / "gdal.geojson").read_text())["features"]
    assert {f["properties"]["block_id"]: f["properties"]["count"] for f in got} == {
        k: v["count"] for k, v in want.items()
    }
    r = ogr2ogr("istv_" + "x" * 43, tmp_path / "wrong.geojson")
    assert r.returncode != 0 and "401" in r.stderr, r.stderr[-2000:]


def _bbox_of(feature: dict) -> tuple[float, float, float, float]:
    return _padded_bbox(feature["geometry"]["coordinates"], pad=0.0)


def _padded_bbox(coords: object, pad: float) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: object) -> None:
        if isinstance(c, list) and c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        elif isinstance(c, list):
            for x in c:
                walk(x)

    walk(coords)
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])
