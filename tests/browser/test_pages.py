"""The web pages in a real headless Chromium (Debian `chromium` + `chromium-driver`, driven by
selenium): sign in with a token, upload a sample file, see the validation report, see the map
drawn (SVG paths), download a GeoPackage. The server is `istvhub serve` on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from _server import running_server

REPO = Path(__file__).resolve().parents[2]
BAD_DATES = REPO / "sample_feeds" / "RJ122" / "RJ122_2025-07.csv"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser test: install chromium and chromium-driver")
    pytest.skip(
        "chromium / chromedriver not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

try:
    import selenium  # noqa: F401
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("selenium not installed (pip install -e '.[dev]')", allow_module_level=True)
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, gazetteer_home):
    """`istvhub serve` with the real gazetteer, an ED analyst, a CSP analyst and seeded records."""
    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    home = tmp_path / "home"
    home.mkdir()
    (home / "gazetteer").symlink_to(gazetteer_home / "gazetteer", target_is_directory=True)
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = Settings(home=home, db=db)
    store = open_app_store(settings)
    tokens = {
        "ed": users.add_user(store.engine, "ed", "ed_analyst", departments=["RJ122"])[1],
        "csp": users.add_user(store.engine, "csp", "csp_analyst", boroughs=["Westminster"])[1],
    }
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "api_conftest", REPO / "tests" / "api" / "conftest.py"
    )
    api_conf = importlib.util.module_from_spec(spec)
    sys.modules["api_conftest"] = api_conf
    spec.loader.exec_module(api_conf)  # the API tests' seeding helper
    api_conf.seed_located(api_conf.Hub(client=None, store=store, settings=settings), gazetteer_home)
    store.dispose()
    with running_server(home, db, tmp_path / "server.log") as base:
        yield base, tokens


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        opts.add_argument(flag)
    opts.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    drv.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield drv
    finally:
        drv.quit()


def _sign_in(drv, base: str, token: str) -> None:
    drv.get(base + "/signin")
    drv.find_element(By.ID, "token").send_keys(token)
    drv.find_element(By.ID, "signin-button").click()
    WebDriverWait(drv, 20).until(EC.presence_of_element_located((By.ID, "who")))


def test_sign_in_upload_report_map_and_download(server, browser):
    base, tokens = server
    drv = browser
    wait = WebDriverWait(drv, 60)

    # a wrong token is refused
    drv.get(base + "/signin")
    drv.find_element(By.ID, "token").send_keys("istv_" + "x" * 43)
    drv.find_element(By.ID, "signin-button").click()
    assert drv.find_element(By.ID, "signin-error").is_displayed()

    # ED analyst: upload a sample file, see its validation report
    _sign_in(drv, base, tokens["ed"])
    assert "ed analyst" in drv.find_element(By.ID, "who").text
    drv.get(base + "/upload")
    drv.find_element(By.ID, "file").send_keys(str(BAD_DATES))
    drv.find_element(By.ID, "upload-button").click()
    wait.until(lambda d: d.find_element(By.ID, "report").is_displayed())
    issues = drv.find_elements(By.CSS_SELECTOR, "#issues-table tbody tr")
    assert len(issues) == 6  # the six impossible arrival dates
    summary = {
        tr.get_attribute("data-key"): tr.find_element(By.TAG_NAME, "td").text
        for tr in drv.find_elements(By.CSS_SELECTOR, "#summary-table tr")
    }
    assert summary["department"] == "RJ122" and summary["rows_quarantined"] == "6"
    labels = drv.find_element(By.ID, "summary-table").text
    assert "rows_quarantined" not in labels and "Rows set aside" in labels
    # the ED analyst has no map
    drv.get(base + "/map")
    assert "cannot use this page" in drv.page_source
    drv.find_element(By.CSS_SELECTOR, ".who form button").click()

    # CSP analyst: the map lists the hot blocks
    _sign_in(drv, base, tokens["csp"])
    drv.get(base + "/map")
    sel = drv.find_element(By.ID, "from")
    drv.execute_script("arguments[0].value='2025-06'", sel)
    drv.execute_script("document.getElementById('to').value='2025-07'")
    drv.find_element(By.ID, "apply").click()
    wait.until(lambda d: int(d.find_element(By.ID, "map").get_attribute("data-features") or 0) > 0)
    # the MapLibre map itself is tested in test_map.py
    top = drv.find_elements(By.CSS_SELECTOR, "#top-table tbody tr")
    assert top and top[0].find_elements(By.TAG_NAME, "td")[3].text == "20"

    # download the GeoPackage
    drv.find_element(By.ID, "dl-gpkg").click()
    deadline = time.time() + 60
    files: list[Path] = []
    while time.time() < deadline:
        files = [p for p in drv.downloads.iterdir() if p.suffix == ".gpkg"]
        if files:
            break
        time.sleep(0.2)
    assert files, "no GeoPackage downloaded"
    import pyogrio

    layers = {n for n, _ in pyogrio.list_layers(files[0])}
    assert {"blocks", "hexes", "lsoas", "summary"} <= layers
    blocks = pyogrio.read_dataframe(files[0], layer="blocks")
    assert set(blocks["borough"]) == {"Westminster"}


@pytest.fixture
def bare_server(tmp_path):
    """`istvhub serve` with no gazetteer and an ED analyst for RJ122 (enough for uploads)."""
    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    home = tmp_path / "home"
    home.mkdir()
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    store = open_app_store(Settings(home=home, db=db))
    token = users.add_user(store.engine, "ed", "ed_analyst", departments=["RJ122"])[1]
    store.dispose()
    with running_server(home, db, tmp_path / "server.log") as base:
        yield base, token, db


def test_held_file_mapping_accepted_on_the_upload_page(bare_server, browser, tmp_path):
    """Issue 17: a file with no location type column is held (nothing stored); the page shows
    the proposed mapping; the analyst marks the item absent in the box and accepts, in one
    step, without choosing the file again; the month is stored and the mapping kept."""
    import layout_corpus as LC
    from istvhub.store import open_store
    from istvhub.store.mappings import department_mappings

    base, token, db = bare_server
    name, data, _w = LC.merged_header_xlsx(LC.base())
    held = tmp_path / name
    held.write_bytes(data)
    drv, wait = browser, WebDriverWait(browser, 60)
    _sign_in(drv, base, token)
    drv.get(base + "/upload")
    drv.find_element(By.ID, "file").send_keys(str(held))
    drv.find_element(By.ID, "upload-button").click()
    wait.until(lambda d: d.find_element(By.ID, "mapping").is_displayed())
    assert "Held, not stored" in drv.find_element(By.ID, "upload-status").text
    assert "location type" in drv.find_element(By.ID, "mapping-intro").text
    box = drv.find_element(By.ID, "mapping-text")
    proposal = box.get_attribute("value")
    assert 'location_text = "Incident Location"' in proposal
    assert "NEEDS A COLUMN: location type" in proposal
    assert not drv.find_element(By.ID, "report").is_displayed()
    box.clear()  # the analyst's edit: the file has no location type
    box.send_keys(proposal.replace("absent = []", 'absent = ["location_type"]'))
    drv.find_element(By.ID, "mapping-accept").click()
    wait.until(lambda d: d.find_element(By.ID, "report").is_displayed())
    assert not drv.find_element(By.ID, "mapping").is_displayed()
    status = drv.find_element(By.ID, "upload-status").text
    assert "Stored as version 1 of RJ122 for March 2025" in status, status
    summary = {
        tr.get_attribute("data-key"): tr.find_element(By.TAG_NAME, "td").text
        for tr in drv.find_elements(By.CSS_SELECTOR, "#summary-table tr")
    }
    assert summary["rows_accepted"] == "169"
    st = open_store(db)
    try:
        subs = st.submissions("RJ122")
        assert list(subs["period"]) == ["2025-03"]
        assert subs["adapter"].iloc[0].startswith("mapping:rj122_")
        assert len(department_mappings(st, "RJ122")) == 1
    finally:
        st.dispose()
