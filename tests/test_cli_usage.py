"""A mistyped command line gets click's one-line usage error and exit code 2, never a traceback
(typer 0.29 raises its own copy of click's exceptions, which `main` must catch too)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "ISTVHUB_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "istvhub", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("no-such-command",), "No such command 'no-such-command'"),
        (("geocode", "correct"), "Missing argument 'text'"),
        (("ingest", "--no-such-option", "x.csv"), "No such option: --no-such-option"),
    ],
)
def test_usage_errors_are_one_message_and_exit_2(
    args: tuple[str, ...], says: str, tmp_path: Path
) -> None:
    result = _run(*args, tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
