"""The CSP hot-blocks notebook runs end to end (nbclient) on a GeoPackage built in the test from
real-shaped data: the real Westminster network and LSOAs, synthetic located records."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.disclosure import get_rule
from istvhub.hotblocks.export import write_layers
from istvhub.hotblocks.sample import blocks_from_osm_edges, synthetic_records, westminster_lsoas

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "csp_hotblocks.ipynb"


def test_csp_notebook_executes(tmp_path, monkeypatch, sources_dir):
    blocks = blocks_from_osm_edges(sources_dir)
    records = synthetic_records(blocks, 3000, seed=21)
    layers = build_layers(records, blocks, Filters("2024-01", "2024-03"), get_rule(),
                          lsoas=westminster_lsoas(sources_dir))
    gpkg = tmp_path / "hot.gpkg"
    write_layers(layers, gpkg, "gpkg")
    monkeypatch.setenv("ISTVHUB_HOTBLOCKS_GPKG", str(gpkg))
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
    assert "NHS Digital HES/ECDS" in text
    assert f"{len(layers.blocks)} blocks with incidents" in text
    assert "Gini over blocks" in text
    top = layers.blocks.dropna(subset=["rank"]).iloc[0]["name"]
    assert top in text  # the top block is in the printed table
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
