"""The CSP hot-blocks notebook runs end to end (nbclient) on a GeoPackage built in the test from
real-shaped data: the real Westminster network and LSOAs, synthetic located records."""

from __future__ import annotations

from pathlib import Path

from _notebooks import run_notebook
from istvhub.disclosure.rules import get_rule
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.export import write_layers
from istvhub.hotblocks.sample import blocks_from_osm_edges, synthetic_records, westminster_lsoas

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "csp_hotblocks.ipynb"


def test_csp_notebook_executes(tmp_path, monkeypatch, sources_dir):
    blocks = blocks_from_osm_edges(sources_dir)
    records = synthetic_records(blocks, 3000, seed=21)
    layers = build_layers(
        records,
        blocks,
        Filters("2024-01", "2024-03"),
        get_rule(),
        lsoas=westminster_lsoas(sources_dir),
    )
    gpkg = tmp_path / "hot.gpkg"
    write_layers(layers, gpkg, "gpkg")
    monkeypatch.setenv("ISTVHUB_HOTBLOCKS_GPKG", str(gpkg))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text, pngs = run_notebook(NOTEBOOK, tmp_path)
    assert "NHS Digital HES/ECDS" in text
    assert f"{len(layers.blocks)} blocks with incidents" in text
    assert "Gini over blocks" in text
    top = layers.blocks.dropna(subset=["rank"]).iloc[0]["name"]
    assert top in text  # the top block is in the printed table
    assert any(o.get("output_type") == "display_data" for o in pngs)
