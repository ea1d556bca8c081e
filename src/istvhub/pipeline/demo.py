"""The main job end to end: what a new user runs first, and what CI's smoke test runs.

gazetteer (build once) -> ingest every sample feed in arrival order (geocoding each record) ->
hot-block layers + report for CSPs -> compliance grid for MOPAC. Each step calls the same public
function as its own CLI command, so the demo can't drift from what analysts run.

Re-running is idempotent: a feed whose bytes are already stored (in any version of its month)
is skipped, so the demo never turns an old file into a new version.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from istvhub._errors import GazetteerNotBuilt
from istvhub.compliance.render import render
from istvhub.compliance.service import build_report
from istvhub.disclosure.rules import get_rule
from istvhub.gazetteer import load
from istvhub.gazetteer.build import build
from istvhub.gazetteer.stale import stale_records
from istvhub.geocode.service import regeocode_stored
from istvhub.geocode.shared import shared_geocoder
from istvhub.hotblocks.aggregate import Filters
from istvhub.hotblocks.service import hotblocks_from_store, load_network, write_outputs
from istvhub.ingest.core import ingest_file
from istvhub.store import open_store

LONDON = ZoneInfo("Europe/London")
#: ``--quick`` ingests only the feeds of the manifest's first months (a smoke test of every stage
#: in well under a minute, e.g. from a freshly installed wheel)
QUICK_MONTHS = 3


@dataclass
class DemoResult:
    gazetteer_version: str = ""
    gazetteer_built: bool = False
    ingested: list[dict] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    compliance_line: str = ""
    hotblocks_line: str = ""


def read_manifest(feeds: Path, months: int | None = None) -> list[dict[str, str]]:
    """The sample feeds' manifest rows, in the order the files arrived (only those of the first
    ``months`` months when given)."""
    with (feeds / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if months is not None:
        keep = sorted({r["period"] for r in rows})[:months]
        rows = [r for r in rows if r["period"] in keep]
    return sorted(rows, key=lambda r: r["received_at"])


def _arrival(text: str) -> datetime:
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo else ts.replace(tzinfo=LONDON)


def ensure_gazetteer(
    home: Path, sources: Path | None, rebuild: bool, say: Callable[[str], None]
) -> tuple[str, bool]:
    """Load the current gazetteer, building it first when there is none (or when asked)."""
    if not rebuild:
        try:
            return str(load(home).version), False
        except GazetteerNotBuilt:
            pass
    say("building the gazetteer from the open-data sources (about a minute)")
    build(sources=sources, out=home / "gazetteer", progress=lambda msg: say(f"  gazetteer: {msg}"))
    return str(load(home).version), True


def ingest_feeds(
    store, feeds: Path, home: Path, say: Callable[[str], None], months: int | None = None
) -> list[dict]:
    """Ingest every manifest file (of the first ``months``) once; one summary dict per file."""
    geocoder = shared_geocoder(home, store.url)
    stored = store.submissions()
    seen = set(stored["file_sha256"]) if len(stored) else set()
    results = []
    for row in read_manifest(feeds, months):
        path = feeds / row["file"]
        if hashlib.sha256(path.read_bytes()).hexdigest() in seen:
            results.append({"file": row["file"], "status": "already stored"})
            continue
        res = ingest_file(
            path,
            store,
            department=row["department"] or None,
            period=row["period"] or None,
            geocoder=geocoder,
            home=home,
            received_at=_arrival(row["received_at"]),
        )
        d = res.as_dict()
        results.append(
            {
                "file": row["file"],
                **{
                    k: d.get(k)
                    for k in (
                        "status",
                        "version",
                        "rows_accepted",
                        "rows_quarantined",
                        "rows_skipped",
                        "geocoded",
                        "message",
                    )
                },
            }
        )
        say(
            f"  {row['file']}: {res.status}"
            + (
                f" v{res.version}, {res.rows_accepted} records"
                if res.status != "rejected"
                else f" ({res.message})"
            )
        )
    return results


def regeocode_stale(home: Path, db_url: str, version: str, say: Callable[[str], None]) -> int:
    """After a gazetteer rebuild, re-geocode the stored records made against an older one
    (``istvhub geocode --stored``), so hot blocks use the new streets, parks and venues."""
    stale = stale_records(version, db_url)
    if not stale:
        return 0
    n = sum(stale.values())
    say(f"re-geocoding {n} stored records made against an older gazetteer (geocode --stored)")
    regeocode_stored(db=db_url, home=home)
    return n


def run_demo(
    home: Path,
    feeds: Path,
    *,
    db_url: str,
    sources: Path | None = None,
    rebuild: bool = False,
    say: Callable[[str], None] = print,
    quick: bool = False,
) -> DemoResult:
    """Run the whole job on ``feeds`` into ``home``/``db_url``; outputs go to ``home/outputs``."""
    out = home / "outputs"
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    result.gazetteer_version, result.gazetteer_built = ensure_gazetteer(home, sources, rebuild, say)
    say(f"gazetteer {result.gazetteer_version}")

    store = open_store(db_url)
    try:
        say(f"ingesting the sample feeds from {feeds}")
        result.ingested = ingest_feeds(store, feeds, home, say, QUICK_MONTHS if quick else None)
        periods = sorted(store.submissions()["period"].unique())
    finally:
        store.dispose()
    regeocode_stale(home, db_url, result.gazetteer_version, say)

    first, last = periods[0], periods[-1]
    say(f"hot blocks {first}..{last} (disclosure control on)")
    network = load_network(home)
    layers = hotblocks_from_store(
        db_url, Filters(period_from=first, period_to=last), get_rule(), network=network
    )
    gpkg, report = out / "hotblocks.gpkg", out / "hotblocks.html"
    write_outputs(layers, gpkg, "gpkg", report=report, boroughs=network.boroughs)
    result.outputs.update(hotblocks_gpkg=gpkg, hotblocks_report=report)

    say("sharing compliance")
    comp = build_report(db_url, start=first, end=last)
    html = out / "compliance.html"
    html.write_text(render(comp, "html"), encoding="utf-8")
    (out / "compliance.json").write_text(render(comp, "json"), encoding="utf-8")
    result.outputs.update(compliance_html=html, compliance_json=out / "compliance.json")
    result.compliance_line = str(comp.summary["line"])
    return result
