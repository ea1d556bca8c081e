"""The MOPAC compliance notebook runs end to end (nbclient) on a store with real-shaped data."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from test_compliance_store import NOW, _build_store

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "mopac_compliance.ipynb"


def test_mopac_notebook_executes(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'nb.db'}"
    _build_store(url)
    monkeypatch.setenv("ISTVHUB_DB", url)
    monkeypatch.setenv("ISTVHUB_AS_OF", NOW.isoformat())
    monkeypatch.setenv("ISTVHUB_FROM", "2025-01")
    monkeypatch.setenv("ISTVHUB_TO", "2025-06")
    monkeypatch.setenv("ISTVHUB_REPORT_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except Exception as exc:  # pragma: no cover - the message carries the failing cell
        pytest.fail(f"notebook failed: {exc}")
    text = "\n".join(
        o.get("text", "") if o.get("output_type") == "stream"
        else str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "departments sharing consistently" in text
    assert "2025-03" in text  # the missing month is listed among the problems
    html = tmp_path / "compliance-2025-01-2025-06.html"
    assert html.is_file() and "sharing consistently" in html.read_text()
