"""Hot-block layers for the API: one network index per process, exports cached on disk.

The layers are built by the hot-blocks stage's own core (``build_layers``) and written by its own
exporter (``write_layers``), exactly as `istvhub hotblocks` does. A download is cached under
``<home>/cache/layers/`` keyed by the filters, the disclosure rule, the gazetteer version and the
state of the store (current submissions, last geocode), so 50 analysts asking for the same month
cost one build, and any new upload or re-geocode makes a fresh one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from istvhub.disclosure.rules import DisclosureRule
from istvhub.hotblocks.aggregate import Filters, build_layers
from istvhub.hotblocks.assign import BlockIndex
from istvhub.hotblocks.export import layer_paths, write_layers
from istvhub.hotblocks.netmemo import warm
from istvhub.hotblocks.service import load_network, read_layer_records
from istvhub.store import Store
from istvhub.store.repos.records import data_state

_lock = threading.Lock()
_build_locks: dict[str, threading.Lock] = {}
_network: dict[str, Any] = {}


@dataclass
class Network:
    version: str
    index: Any  # hotblocks.assign.BlockIndex
    lsoas: Any
    boroughs: Any
    areas21: Any = None  # {"lsoas21": ..., "msoas21": ...}


def network_for(home: Path) -> Network:
    """The current gazetteer's block index, built (and its memo warmed) once per process per
    gazetteer version."""
    current = Path(home) / "gazetteer" / "CURRENT"
    version = current.read_text().strip() if current.is_file() else ""
    key = f"{home}|{version}"
    with _lock:
        net = _network.get(key)
        if net is None:
            n = load_network(home)
            net = Network(n.version, BlockIndex(n.blocks), n.lsoas, n.boroughs, n.areas21)
            warm(net.index, net.lsoas)  # network-only parts of a build, paid here once
            _network.clear()
            _network[key] = net
        return net


def build_cached(
    store: Store, home: Path, filters: Filters, rule: DisclosureRule, fmt: str
) -> Path:
    """Directory holding the export of ``filters`` in ``fmt`` (built at most once per state)."""
    net = network_for(home)
    key_src = json.dumps(
        {
            "f": filters.describe(),
            "rule": rule.name,
            "raw": bool(rule.raw),
            "fmt": fmt,
            "gaz": net.version,
            "state": data_state(store),
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:32]
    root = Path(home) / "cache" / "layers"
    out = root / key
    if (out / "DONE").is_file():
        return out
    with _lock:
        lk = _build_locks.setdefault(key, threading.Lock())
    # threads of this worker queue on `lk`; other workers (any host) on the store's own lock
    with lk, store.exclusive(f"layers:{key}"):
        if (out / "DONE").is_file():
            return out
        records = read_layer_records(store, filters, net.index, net.lsoas, net.areas21, home)
        layers = build_layers(
            records,
            net.index,
            filters,
            rule,
            lsoas=net.lsoas,
            gazetteer_version=net.version,
            areas21=net.areas21,
        )
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
        try:
            write_layers(layers, tmp / f"hotblocks.{fmt}", fmt)
            (tmp / "DONE").write_text(key_src)
            try:
                os.replace(tmp, out)
            except OSError:  # another worker finished the same build first
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out


def layer_file(export_dir: Path, fmt: str, layer: str) -> Path:
    """The file of one layer inside an export (GeoPackage: the one file)."""
    if fmt == "gpkg":
        return export_dir / "hotblocks.gpkg"

    return layer_paths(export_dir / f"hotblocks.{fmt}", fmt)[layer]
