"""Every page each role may see, in a real headless Chromium: signed in as that role, each page
of its navigation is opened at 1280 px and at 500 px wide, axe-core finds no serious or critical
violation, nothing overflows sideways at 500 px, and a screenshot of each goes under the test's
tmp dir. The map's "Show" control also works from the keyboard (Enter)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("selenium")  # skipped without it; conftest.py skips without Chromium
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from _axe import axe_serious  # noqa: E402

pytestmark = pytest.mark.slow
MONTHS = ("2025-06", "2025-07")
USERS = {
    "ed": ("ed_analyst", {"departments": ["RJ122"]}),
    "csp": ("csp_analyst", {"boroughs": ["Westminster"]}),
    "mopac": ("mopac", {}),
    "admin": ("admin", {}),
}
#: The pages in each role's navigation (base.html), plus home and account.
PAGES = {
    "ed": ["/", "/upload", "/feedback-sheet", "/equality-table", "/account"],
    "csp": ["/", "/map", "/equality-table", "/compare-police", "/connect-qgis", "/account"],
    "mopac": [
        "/",
        "/map",
        "/compliance-grid",
        "/equality-table",
        "/compare-police",
        "/connect-qgis",
        "/account",
    ],
    "admin": [
        "/",
        "/upload",
        "/feedback-sheet",
        "/map",
        "/compliance-grid",
        "/equality-table",
        "/compare-police",
        "/connect-qgis",
        "/admin/users",
        "/account",
    ],
}


@pytest.fixture
def every_role(hub_server):
    return hub_server(USERS, months=MONTHS)


def _settled(drv, path: str) -> None:
    """Wait until the page has done its first work (the map drawn, charts built)."""
    wait = WebDriverWait(drv, 90)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    if path == "/map":
        wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-drawn"))


def _overflow(drv) -> tuple[int, int, list[str]]:
    """(scrollWidth, innerWidth, the widest elements sticking out on the right)."""
    return tuple(
        drv.execute_script(
            "const w = window.innerWidth; const out = [];"
            "for (const e of document.body.querySelectorAll('*')) {"
            "  const r = e.getBoundingClientRect();"
            "  if (r.right > w + 1 && e.offsetParent !== null && !e.closest('.scroll'))"
            "    out.push(e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);"
            "}"
            "return [document.scrollingElement.scrollWidth, w, out.slice(0, 8)];"
        )
    )


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_of_each_role_is_accessible_and_fits_500px(
    role, every_role, browser, sign_in, tmp_path
):
    drv = browser
    sign_in(every_role.base, every_role.tokens[role])
    problems: list[str] = []
    for width in (1280, 500):
        drv.set_window_size(width, 1000)
        for path in PAGES[role]:
            drv.get(every_role.base + path)
            _settled(drv, path)
            title = drv.title
            assert "cannot use this page" not in drv.page_source, (role, path)
            assert drv.find_elements(By.TAG_NAME, "h1"), (role, path, title)
            name = (path.strip("/").replace("/", "-") or "home") + f"-{width}.png"
            drv.save_screenshot(str(tmp_path / f"{role}-{name}"))
            for v in axe_serious(drv):
                problems.append(f"{width}px {path}: axe {v['id']} ({v['impact']}) {v['nodes']}")
            if width == 500:
                sw, iw, out = _overflow(drv)
                if sw > iw:
                    problems.append(f"500px {path}: scrollWidth {sw} > {iw}: {out}")
    assert problems == []


def test_map_show_control_works_from_the_keyboard(every_role, browser, sign_in):
    drv = browser
    wait = WebDriverWait(drv, 90)
    sign_in(every_role.base, every_role.tokens["csp"])
    drv.get(every_role.base + "/map")
    seq = int(wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-drawn")))
    Select(drv.find_element(By.ID, "layer")).select_by_value("lsoa")
    drv.find_element(By.ID, "apply").send_keys(Keys.ENTER)
    wait.until(lambda d: int(d.find_element(By.ID, "map").get_attribute("data-drawn") or 0) > seq)
    assert drv.find_element(By.ID, "map").get_attribute("data-layer") == "lsoa"
    # Enter in a filter field submits the form too
    seq = int(drv.find_element(By.ID, "map").get_attribute("data-drawn"))
    Select(drv.find_element(By.ID, "layer")).select_by_value("hexes")
    drv.find_element(By.ID, "to").send_keys(Keys.ENTER)
    wait.until(lambda d: int(d.find_element(By.ID, "map").get_attribute("data-drawn") or 0) > seq)
    assert drv.find_element(By.ID, "map").get_attribute("data-layer") == "hexes"


def test_compliance_sorts_and_a_duplicate_upload_says_nothing_changed(
    every_role, browser, sign_in, tmp_path
):
    drv = browser
    wait = WebDriverWait(drv, 90)
    sample = Path(__file__).resolve().parents[2] / "sample_feeds" / "RJ122" / "RJ122_2025-03.csv"
    # an ED analyst uploads the same month twice: the second time says it is identical
    sign_in(every_role.base, every_role.tokens["ed"])
    messages = []
    for _ in range(2):
        drv.get(every_role.base + "/upload")
        drv.find_element(By.ID, "file").send_keys(str(sample))
        drv.find_element(By.ID, "upload-button").click()
        wait.until(lambda d: d.find_element(By.ID, "upload-status").text.strip())
        wait.until(lambda d: "Uploading" not in d.find_element(By.ID, "upload-status").text)
        messages.append(drv.find_element(By.ID, "upload-status").text)
    assert "identical" not in messages[0].lower()
    dup = messages[1].lower()
    assert "identical" in dup and "version 1" in dup and "nothing changed" in dup
    drv.save_screenshot(str(tmp_path / "upload-duplicate.png"))
    drv.find_element(By.CSS_SELECTOR, ".who form button").click()
    # MOPAC opens the compliance grid and sorts it by department name, both ways
    sign_in(every_role.base, every_role.tokens["mopac"])
    drv.get(every_role.base + "/compliance-grid")
    head = drv.find_element(By.CSS_SELECTOR, "#grid th[data-key=name]")

    def names() -> list[str]:
        return [
            r.get_attribute("data-name")
            for r in drv.find_elements(By.CSS_SELECTOR, "#grid tbody tr")
        ]

    assert len(names()) > 20
    head.find_element(By.TAG_NAME, "button").click()
    assert head.get_attribute("aria-sort") == "ascending"
    up = names()
    assert up == sorted(up, key=str.lower) or up == sorted(up)
    head.find_element(By.TAG_NAME, "button").send_keys(Keys.ENTER)
    assert head.get_attribute("aria-sort") == "descending"
    assert names() == up[::-1]
    drv.save_screenshot(str(tmp_path / "compliance-sorted.png"))
