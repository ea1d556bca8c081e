"""The MOPAC compliance notebook runs end to end (nbclient) on a store with real-shaped data."""

from __future__ import annotations

from pathlib import Path

from _notebooks import run_notebook
from test_compliance_samples import AS_OF, MANIFEST, _ingest_all
from test_compliance_store import NOW, _build_store

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "mopac_compliance.ipynb"


def test_mopac_notebook_executes(tmp_path, monkeypatch):
    """On the sample feeds (ingested at their manifest arrival times) when they are generated,
    else on the small hand-built store of test_compliance_store."""
    url = f"sqlite:///{tmp_path / 'nb.db'}"
    if MANIFEST.is_file():
        _ingest_all(url)
        as_of, start, end, missing = AS_OF, "2025-01", "2025-12", "2025-10"
    else:  # pragma: no cover - only before the sample feeds exist
        _build_store(url)
        as_of, start, end, missing = NOW, "2025-01", "2025-06", "2025-03"
    monkeypatch.setenv("ISTVHUB_DB", url)
    monkeypatch.setenv("ISTVHUB_AS_OF", as_of.isoformat())
    monkeypatch.setenv("ISTVHUB_FROM", start)
    monkeypatch.setenv("ISTVHUB_TO", end)
    monkeypatch.setenv("ISTVHUB_REPORT_DIR", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws PNGs
    text, pngs = run_notebook(NOTEBOOK, tmp_path)
    assert "departments sharing consistently" in text
    assert missing in text  # the missing month is listed among the problems
    assert len(pngs) == 2  # the RAG grid and the completeness chart
    html = tmp_path / f"compliance-{start}-{end}.html"
    assert html.is_file() and "sharing consistently" in html.read_text()
