"""One way to drive the hub in a real headless Chromium, shared by every browser test: the
skip-or-fail rule when Chromium is missing, the driver, the served hub with its users and
seeded records, and signing in through the /signin page. A change to how the browser starts
or how sign-in works is made here once.

Use: ``hub = hub_server({"csp": ("csp_analyst", {"boroughs": ["Westminster"]})})``, then
``sign_in(hub.base, hub.tokens["csp"])`` and drive ``browser``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from _server import running_server

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (CHROMIUM and CHROMEDRIVER):
        return "chromium / chromedriver not installed (apt-get install chromium chromium-driver)"
    if importlib.util.find_spec("selenium") is None:
        return "selenium not installed (pip install -e '.[dev]')"
    return None


MISSING = _missing()
if MISSING and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the browser tests: {MISSING}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium (outside CI) every browser test is reported skipped, with the reason."""
    if MISSING:
        here = Path(__file__).parent
        for item in items:
            if here in Path(str(item.path)).parents:
                item.add_marker(pytest.mark.skip(reason=MISSING))


#: A user of the served hub: role and the keyword arguments of ``users.add_user``.
UserSpec = tuple[str, dict[str, Any]]


@dataclass
class Served:
    """A running hub: its base URL, the users' tokens by name, the seeded blocks per month
    (``seed_located``'s block_id, name, borough, n) and the database URL."""

    base: str
    tokens: dict[str, str]
    db: str
    seeded: list[list[dict]] = field(default_factory=list)


HubServer = Callable[..., Served]


def api_conftest() -> ModuleType:
    """The API tests' conftest (``Hub``, ``seed_located``), loaded once under its own name so
    the browser tests seed records exactly as the API tests do."""
    if "api_conftest" in sys.modules:
        return sys.modules["api_conftest"]
    spec = importlib.util.spec_from_file_location(
        "api_conftest", REPO / "tests" / "api" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["api_conftest"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def hub_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HubServer]:
    """A factory: ``hub_server(users, months=(), gazetteer=True)`` starts `istvhub serve` on
    a free loopback port with those users (name -> (role, add_user kwargs)) and, for each month,
    the API tests' seeded located records; returns a ``Served``. Once per test. The real
    gazetteer is linked in unless ``gazetteer=False`` (uploads need none)."""
    from istvhub.api import users as hub_users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    with ExitStack() as stack:

        def start(
            users: dict[str, UserSpec],
            *,
            months: Sequence[str] = (),
            gazetteer: bool = True,
        ) -> Served:
            home = tmp_path / "home"
            home.mkdir()
            gaz_home: Path | None = None
            if gazetteer or months:
                gaz_home = request.getfixturevalue("gazetteer_home")
                (home / "gazetteer").symlink_to(gaz_home / "gazetteer", target_is_directory=True)
            db = f"sqlite:///{tmp_path / 'hub.db'}"
            settings = Settings(home=home, db=db)
            store = open_app_store(settings)
            try:
                tokens = {
                    name: hub_users.add_user(store.engine, name, role, **kw)[1]
                    for name, (role, kw) in users.items()
                }
                seeded: list[list[dict]] = []
                if months:
                    api = api_conftest()
                    hub = api.Hub(client=None, store=store, settings=settings)
                    assert gaz_home is not None
                    seeded = [api.seed_located(hub, gaz_home, period=m).blocks for m in months]
            finally:
                store.dispose()
            base = stack.enter_context(running_server(home, db, tmp_path / "server.log"))
            return Served(base=base, tokens=tokens, db=db, seeded=seeded)

        yield start


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with WebGL through SwiftShader (MapLibre draws) and downloads going
    to ``browser.downloads`` (a directory under the test's tmp dir)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM or ""
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
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
    drv.downloads = downloads
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture
def sign_in(browser: Any) -> Callable[[str, str], None]:
    """``sign_in(base, token)``: sign in through the /signin page, as a person does, and wait
    until the page names who is signed in."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    def _sign_in(base: str, token: str) -> None:
        browser.get(base + "/signin")
        browser.find_element(By.ID, "token").send_keys(token)
        browser.find_element(By.ID, "signin-button").click()
        WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "who")))

    return _sign_in
