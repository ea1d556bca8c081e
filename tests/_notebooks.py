"""Execute a notebook the way an analyst would (nbclient, python3 kernel) and collect what it
showed, so the notebook tests assert on printed text and drawn figures, not on cell code."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient


def run_notebook(path: Path, workdir: Path) -> tuple[str, list[dict]]:
    """Run every cell in ``workdir``; return (all text output, the outputs carrying a PNG)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    try:
        client.execute()
    except Exception as exc:  # pragma: no cover - the message carries the failing cell
        pytest.fail(f"notebook failed: {exc}")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "\n".join(
        o.get("text", "")
        if o.get("output_type") == "stream"
        else str(o.get("data", {}).get("text/plain", ""))
        for o in outputs
    )
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    return text, pngs
