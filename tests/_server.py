"""Run `istvhub serve` as a real subprocess on a free loopback port, for the tests that need
real workers (multi-worker uploads, concurrency, the browser). One copy of the start, wait-for
/health and teardown logic, so a change to how the server starts is made once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(
    home: Path, db_url: str, log_path: Path, *, workers: int = 1, wait_s: float = 60.0
) -> Iterator[str]:
    """Start the service on 127.0.0.1 (loopback only), yield its base URL, stop it after."""
    port = free_port()
    env = {**os.environ, "ISTVHUB_HOME": str(home), "ISTVHUB_DB": db_url}
    cmd = [sys.executable, "-m", "istvhub", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "server did not start: " + log_path.read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
