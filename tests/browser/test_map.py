"""The hot-block map in a real headless Chromium (WebGL through SwiftShader): sign in, see the
basemap and the layer drawn by MapLibre, zoom with the control and the keyboard, click a block
and read its popup, apply a time-of-day filter and see the counts change, fall back to hexagons
in a borough without a street network. Screenshots go under the test's tmp dir."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium")  # skipped without it; conftest.py skips without Chromium
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from _axe import axe_serious  # noqa: E402

pytestmark = pytest.mark.slow
MONTHS = ("2025-06", "2025-07", "2025-08")


@pytest.fixture
def map_server(hub_server):
    """`istvhub serve` with the real gazetteer, seeded located records over three months, a
    Westminster CSP analyst and a MOPAC analyst."""
    hub = hub_server(
        {"csp": ("csp_analyst", {"boroughs": ["Westminster"]}), "mopac": ("mopac", {})},
        months=MONTHS,
    )
    return hub.base, hub.tokens, hub.seeded[0]


def _drawn(drv, wait, after: int = 0) -> int:
    """Wait until the map has drawn a selection newer than ``after``; its sequence number."""
    wait.until(lambda d: int(d.find_element(By.ID, "map").get_attribute("data-drawn") or 0) > after)
    return int(drv.find_element(By.ID, "map").get_attribute("data-drawn"))


def _top_counts(drv) -> list[int]:
    rows = drv.find_elements(By.CSS_SELECTOR, "#top-table tbody tr")
    return [int(r.find_elements(By.TAG_NAME, "td")[3].text) for r in rows]


def _set_period(drv, start: str, end: str) -> None:
    drv.execute_script(
        "document.getElementById('from').value=arguments[0];"
        "document.getElementById('to').value=arguments[1];",
        start,
        end,
    )


def test_map_zoom_popup_and_time_filter(map_server, browser, sign_in, tmp_path):
    base, tokens, blocks = map_server
    drv = browser
    wait = WebDriverWait(drv, 90)
    sign_in(base, tokens["csp"])
    drv.get(base + "/map")
    _set_period(drv, MONTHS[0], MONTHS[-1])
    seq = _drawn(drv, wait)
    drv.find_element(By.ID, "apply").click()
    seq = _drawn(drv, wait, seq)
    js = "return window.istvMap"
    # the basemap: Westminster's streets from the gazetteer, London's outlines, the Thames
    n_streets = drv.execute_script(
        js + ".querySourceFeatures('local', {filter: ['==', ['get', 'kind'], 'street']}).length"
    )
    assert n_streets > 500
    kinds = set(
        drv.execute_script(js + ".querySourceFeatures('london').map(f => f.properties.kind)")
    )
    assert {"borough", "water"} <= kinds
    # the CSP's own borough is highlighted, the period is spelled out, the legend states the scale
    assert "Westminster" in str(drv.execute_script(js + ".getFilter('own-line')"))
    period = drv.find_element(By.ID, "period-line").text
    assert "June 2025 to August 2025" in period and "Westminster" in period
    legend = drv.find_element(By.ID, "legend").text
    assert "85 or more" in legend and "1 to 7 (suppressed)" in legend
    assert "suppress 1-7" in drv.find_element(By.ID, "rule-line").text
    # layer: the busy seeded block (20 a month, 60 in all) is first
    counts = _top_counts(drv)
    assert counts and counts[0] >= 50 and counts == sorted(counts, reverse=True)
    top_name = drv.find_elements(By.CSS_SELECTOR, "#top-table tbody tr td")[1].text
    assert top_name == blocks[0]["name"]
    drv.save_screenshot(str(tmp_path / "map-westminster.png"))

    # zoom: the + control, then the keyboard on the map
    z0 = drv.execute_script(js + ".getZoom()")
    drv.find_element(By.CSS_SELECTOR, ".maplibregl-ctrl-zoom-in").click()
    wait.until(lambda d: d.execute_script(js + ".getZoom()") > z0 + 0.5)
    z1 = drv.execute_script(js + ".getZoom()")
    canvas = drv.find_element(By.CSS_SELECTOR, ".maplibregl-canvas")
    canvas.send_keys("=")  # MapLibre's keyboard handler: = / + zoom in
    wait.until(lambda d: d.execute_script(js + ".getZoom()") > z1 + 0.5)

    # click the top block on the map and read its popup
    drv.execute_script(
        "const f = window.istvMap.getSource('units')._data.features[0];"
        "const c = f.geometry.coordinates; const mid = c[Math.floor(c.length / 2)];"
        "window.istvMap.jumpTo({center: mid, zoom: 16});"
    )
    wait.until(lambda d: d.execute_script(js + ".loaded() && !" + js[7:] + ".isMoving()"))
    x, y = drv.execute_script(
        "const m = window.istvMap; const f = m.getSource('units')._data.features[0];"
        "const c = f.geometry.coordinates; const p = m.project(c[Math.floor(c.length / 2)]);"
        "return [p.x, p.y];"
    )
    w, h = canvas.size["width"], canvas.size["height"]
    ActionChains(drv).move_to_element_with_offset(canvas, x - w / 2, y - h / 2).click().perform()
    popup = wait.until(lambda d: d.find_element(By.ID, "unit-popup"))
    text = popup.text
    assert blocks[0]["name"] in text
    assert "Incidents" in text and "Rank" in text and "1 of" in text and "Per 100 m" in text
    drv.save_screenshot(str(tmp_path / "map-popup.png"))
    assert axe_serious(drv) == []  # drawn map, legend, labels and an open popup

    # a time-of-day filter: 22:00-04:00 keeps the arrivals at 22:15 and 23:15 (half of them)
    Select(drv.find_element(By.ID, "hours")).select_by_value("22-4")
    drv.find_element(By.ID, "apply").click()
    seq = _drawn(drv, wait, seq)
    night = _top_counts(drv)
    assert night and night[0] < counts[0] and night[0] <= counts[0] * 0.7
    assert "Night, 22:00 to 04:00" in drv.find_element(By.ID, "period-line").text
    # the heat grid and the trend for the selection, with the chosen hours outlined
    wait.until(lambda d: d.find_element(By.ID, "heat").get_attribute("data-ready") == "1")
    assert drv.find_elements(By.CSS_SELECTOR, "#heat td.sel")
    assert drv.find_element(By.ID, "trend").get_attribute("data-points") == "1"
    assert drv.find_elements(By.CSS_SELECTOR, "#trend canvas")
    drv.save_screenshot(str(tmp_path / "map-night.png"))

    # a selection that matches nothing says so in words
    Select(drv.find_element(By.ID, "weapon")).select_by_visible_text("Firearm")
    drv.find_element(By.ID, "apply").click()
    seq = _drawn(drv, wait, seq)
    status = drv.find_element(By.ID, "map-status").text
    assert status.startswith("No street blocks had 8 or more incidents") and "Firearm" in status
    assert drv.find_elements(By.CSS_SELECTOR, "#top-table tbody tr") == []


def test_borough_without_network_falls_back_to_labelled_hexes(
    map_server, browser, sign_in, tmp_path
):
    base, tokens, _ = map_server
    drv = browser
    wait = WebDriverWait(drv, 90)
    sign_in(base, tokens["mopac"])
    drv.get(base + "/map")
    seq = _drawn(drv, wait)
    _set_period(drv, MONTHS[0], MONTHS[-1])
    Select(drv.find_element(By.ID, "borough")).select_by_value("Havering")
    drv.find_element(By.ID, "apply").click()
    _drawn(drv, wait, seq)
    notice = drv.find_element(By.ID, "no-network")
    assert notice.is_displayed() and "Havering has no street network" in notice.text
    assert drv.find_element(By.ID, "map").get_attribute("data-layer") == "hexes"
    drv.save_screenshot(str(tmp_path / "map-havering.png"))
    assert axe_serious(drv) == []  # the no-network notice and the hexagon fallback
    # London-wide hexes carry their borough (MOPAC sees every borough)
    Select(drv.find_element(By.ID, "borough")).select_by_value("")
    Select(drv.find_element(By.ID, "layer")).select_by_value("hexes")
    seq = int(drv.find_element(By.ID, "map").get_attribute("data-drawn"))
    drv.find_element(By.ID, "apply").click()
    _drawn(drv, wait, seq)
    rows = drv.find_elements(By.CSS_SELECTOR, "#top-table tbody tr")
    boroughs = {r.find_elements(By.TAG_NAME, "td")[2].text for r in rows}
    assert boroughs == {"Westminster", "Camden"}
    # keyboard: a row of the table opens the unit on the map
    rows[0].send_keys(Keys.ENTER)
    popup = wait.until(lambda d: d.find_element(By.ID, "unit-popup"))
    assert "H3 hexagon in" in popup.text
    drv.save_screenshot(str(tmp_path / "map-london-hexes.png"))
