"""The web pages in a real headless Chromium (Debian `chromium` + `chromium-driver`, driven by
selenium): sign in with a token, upload a sample file, see the validation report, see the map
drawn (SVG paths), download a GeoPackage. The server is `istvhub serve` on a free loopback port.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("selenium")  # skipped without it; conftest.py skips without Chromium
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BAD_DATES = REPO / "sample_feeds" / "RJ122" / "RJ122_2025-07.csv"
pytestmark = pytest.mark.slow


@pytest.fixture
def server(hub_server):
    """`istvhub serve` with the real gazetteer, an ED analyst, a CSP analyst and seeded records."""
    hub = hub_server(
        {
            "ed": ("ed_analyst", {"departments": ["RJ122"]}),
            "csp": ("csp_analyst", {"boroughs": ["Westminster"]}),
        },
        months=("2025-06",),
    )
    return hub.base, hub.tokens


def test_sign_in_upload_report_map_and_download(server, browser, sign_in):
    base, tokens = server
    drv = browser
    wait = WebDriverWait(drv, 60)

    # a wrong token is refused
    drv.get(base + "/signin")
    drv.find_element(By.ID, "token").send_keys("istv_" + "x" * 43)
    drv.find_element(By.ID, "signin-button").click()
    # the refusal is a new page: wait for it rather than read the form still on screen
    refused = wait.until(EC.visibility_of_element_located((By.ID, "signin-error")))
    assert "token" in refused.text.lower()

    # ED analyst: upload a sample file, see its validation report
    sign_in(base, tokens["ed"])
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
    sign_in(base, tokens["csp"])
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
def bare_server(hub_server):
    """`istvhub serve` with no gazetteer and an ED analyst for RJ122 (enough for uploads)."""
    hub = hub_server({"ed": ("ed_analyst", {"departments": ["RJ122"]})}, gazetteer=False)
    return hub.base, hub.tokens["ed"], hub.db


def test_held_file_mapping_accepted_on_the_upload_page(bare_server, browser, sign_in, tmp_path):
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
    sign_in(base, token)
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
