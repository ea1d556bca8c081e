"""Map page timings and payloads: first map draw for a borough and for London, warm server.

Starts `istvhub serve` (loopback, one worker) on an existing hub (default: the demo's
``./istvhub-data``), adds a MOPAC user, opens /map in headless Chromium and reads how long after
navigation the page had drawn the basemap and the layer (the map's ``idle`` event after the layer
is set; ``data-since-page-ms``). The first load of each view warms the caches (basemap files,
layer build); the figures are the median and max of the next ``--runs`` loads. Then it prints the
size of every payload the map fetches, as sent (gzip) and unpacked.

    .venv/bin/python benchmarks/map_page.py [--home istvhub-data] [--db URL] \
        [--borough Westminster] [--from 2025-01 --to 2025-12] [--runs 5] [--only Westminster]

The benchmark's user (``bench-map-<pid>``) is revoked when it ends, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, db: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ISTVHUB_HOME": str(home), "ISTVHUB_DB": db}
    cmd = [sys.executable, "-m", "istvhub", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start: " + log.read_text(errors="replace")[-2000:])


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        "--window-size=1280,1000",
    ):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def first_draw_ms(drv, url: str, timeout_s: float = 120) -> tuple[int, int]:
    """(ms after navigation until the layer was drawn, number of units drawn)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv.get(url)
    WebDriverWait(drv, timeout_s).until(
        lambda d: d.find_element(By.ID, "map").get_attribute("data-since-page-ms")
    )
    el = drv.find_element(By.ID, "map")
    return int(el.get_attribute("data-since-page-ms")), int(el.get_attribute("data-features"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--home", type=Path, default=Path(os.environ.get("ISTVHUB_HOME", "istvhub-data"))
    )
    ap.add_argument("--db", default=None)
    ap.add_argument("--borough", default="Westminster")
    ap.add_argument("--from", dest="start", default=None)
    ap.add_argument("--to", dest="end", default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="", help="only the views whose label contains this")
    ap.add_argument("--no-payloads", action="store_true", help="skip the payload sizes")
    a = ap.parse_args()
    home = a.home.resolve()
    db = a.db or os.environ.get("ISTVHUB_DB") or f"sqlite:///{home / 'istvhub.db'}"
    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    store = open_app_store(Settings(home=home, db=db))
    name = f"bench-map-{os.getpid()}"
    token = users.add_user(store.engine, name, "mopac")[1]
    store.dispose()
    try:
        proc, base = start_server(home, db, Path("/tmp") / f"{name}.log")
        try:
            cookies = draw_times(base, token, a)
            if not a.no_payloads:
                payloads(base, cookies, a)
        finally:
            proc.terminate()
            proc.wait(15)
    finally:
        revoke_bench_user(home, db, name)


def draw_times(base: str, token: str, a: argparse.Namespace) -> dict[str, str]:
    """Sign in, print the first-draw figures of each view; returns the session cookies."""
    from selenium.webdriver.common.by import By

    drv = browser()
    try:
        drv.get(base + "/signin")
        drv.find_element(By.ID, "token").send_keys(token)
        drv.find_element(By.ID, "signin-button").click()
        time.sleep(0.5)
        period = ""
        if a.start and a.end:
            period = f"from={a.start}&to={a.end}&"
        views = {
            "London, street blocks": f"{base}/map?{period}layer=blocks",
            "London, H3 hexagons": f"{base}/map?{period}layer=hexes",
            f"{a.borough}, street blocks": f"{base}/map?{period}borough={a.borough}&layer=blocks",
            f"{a.borough}, H3 hexagons": f"{base}/map?{period}borough={a.borough}&layer=hexes",
            f"{a.borough}, LSOAs": f"{base}/map?{period}borough={a.borough}&layer=lsoa",
        }
        if a.only:
            views = {k: v for k, v in views.items() if a.only.lower() in k.lower()}
        print(f"# map page first draw, warm server ({a.runs} runs after one warming load)")
        print(f"{'view':32} {'cold ms':>8} {'median ms':>10} {'max ms':>8} {'units':>6}")
        for label, url in views.items():
            cold, n = first_draw_ms(drv, url)
            times = [first_draw_ms(drv, url)[0] for _ in range(a.runs)]
            print(f"{label:32} {cold:8d} {statistics.median(times):10.0f} {max(times):8d} {n:6d}")
        return {c["name"]: c["value"] for c in drv.get_cookies()}
    finally:
        drv.quit()


def payloads(base: str, cookies: dict[str, str], a: argparse.Namespace) -> None:
    """Print the size of every payload the map fetches, as sent (gzip) and unpacked."""
    print("\n# payloads (bytes sent with gzip / unpacked)")
    q = {"from": a.start, "to": a.end} if a.start and a.end else {}
    urls = {
        "/basemap/london.geojson": ("/basemap/london.geojson", {}),
        f"/basemap/{a.borough}.geojson": (f"/basemap/{a.borough}.geojson", {}),
    }
    for lay in ("blocks", "hexes", "lsoa"):
        urls[f"/map/units.geojson London {lay}"] = ("/map/units.geojson", {**q, "layer": lay})
        urls[f"/map/units.geojson {a.borough} {lay}"] = (
            "/map/units.geojson",
            {**q, "layer": lay, "borough": a.borough},
        )
    urls["/map/profile London"] = ("/map/profile", q)
    with httpx.Client(base_url=base, cookies=cookies, timeout=120) as c:
        for label, (path, params) in urls.items():
            r = c.get(path, params=params, headers={"Accept-Encoding": "gzip"})
            r.raise_for_status()
            sent = int(r.headers.get("content-length") or len(r.content))
            print(f"{label:44} {sent:10,d} / {len(r.content):10,d}")


def revoke_bench_user(home: Path, db: str, name: str) -> None:
    """Revoke the benchmark's own user and its token: users are never deleted (the audit log
    names them), so the store keeps a revoked ``bench-map-<pid>`` that can sign in no more."""
    from istvhub.api import users
    from istvhub.api.deps import open_app_store
    from istvhub.core.config import Settings

    store = open_app_store(Settings(home=home, db=db))
    try:
        users.revoke_user(store.engine, name)
    finally:
        store.dispose()


if __name__ == "__main__":
    main()
