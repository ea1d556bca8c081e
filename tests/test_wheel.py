"""The wheel works on its own (issue 15.3): build it from a copy of the source, install it into a
fresh virtual environment, and run ``istvhub demo --quick`` from there, outside the checkout.

The fresh venv borrows this venv's third-party packages through a ``.pth`` line (so the test
needs no download of pandas, geopandas, ...); the ``.pth`` of this venv's *editable* istvhub is
not processed for a borrowed directory, so ``istvhub`` can only come from the installed wheel,
which the test checks. The gazetteer is the session's real one (tests/.cache), copied in: the
wheel's own package data (layouts, code lists, registry, gazetteer tables, migrations) does the
rest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, f"{cmd[:3]} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of pyproject.toml, README.md and src/ (never in the repo)."""
    work = tmp_path_factory.mktemp("wheel-src")
    shutil.copy2(REPO / "pyproject.toml", work)
    shutil.copy2(REPO / "README.md", work)
    shutil.copytree(
        REPO / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    out = work / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), "."], work)
    (whl,) = out.glob("istvhub-*.whl")
    return whl


def test_the_wheel_carries_its_package_data(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in (
        "istvhub/data/departments.csv",
        "istvhub/data/gazetteer/abbreviations.csv",
        "istvhub/store/migrations/env.py",
        "istvhub/api/templates/base.html",
    ):
        assert must in names, must
    assert any(n.startswith("istvhub/ingest/layouts/") and n.endswith(".toml") for n in names)
    assert any(n.startswith("istvhub/store/migrations/versions/0001") for n in names)
    assert not any(n.startswith(("tests/", "sample_feeds/", "gazetteer/")) for n in names)


def test_demo_quick_runs_from_the_installed_wheel(
    wheel: Path, gazetteer_home: Path, tmp_path: Path
):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    py = venv / "bin" / "python"
    site = Path(
        _run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path
        ).strip()
    )
    (site / "_borrowed_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        tmp_path,
    )
    # the venv's python without this process's PYTHONPATH (a worktree's src/ first on the path
    # would otherwise be imported instead of the wheel) or istvhub settings
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ISTVHUB_", "PYTHON", "VIRTUAL"))
    }
    where = _run([str(py), "-c", "import istvhub; print(istvhub.__file__)"], tmp_path, env)
    where = where.strip()
    assert Path(where).is_relative_to(site), where  # the wheel's copy, not the checkout's

    home = tmp_path / "home"
    shutil.copytree(gazetteer_home / "gazetteer", home / "gazetteer", symlinks=True)
    env["ISTVHUB_HOME"] = str(home)
    run = tmp_path / "elsewhere"  # not the checkout: nothing may be found beside it
    run.mkdir()
    out = _run(
        [str(venv / "bin" / "istvhub"), "demo", "--quick", "--feeds", str(REPO / "sample_feeds")],
        run,
        env,
    )
    assert "compliance:" in out and "hotblocks_gpkg:" in out, out
    outputs = home / "outputs"
    assert (outputs / "hotblocks.gpkg").stat().st_size > 0
    comp = json.loads((outputs / "compliance.json").read_text())
    assert comp["departments"], "no department in the compliance report"
    stored = _run(
        [
            str(py),
            "-c",
            "from istvhub.store import open_store; s = open_store(); "
            "r = s.current_records(); print(len(r), int((r.geo_status == 'located').sum()))",
        ],
        run,
        env,
    ).split()
    n, located = int(stored[0]), int(stored[1])
    assert n > 100 and located > n // 2, (n, located)  # it ingested and geocoded from the wheel
