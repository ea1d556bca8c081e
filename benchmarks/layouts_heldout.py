"""Issue 17 figures: the two held-out-style extracts and the layout corpus of
tests/layout_corpus.py through the real ingest path (SQLite, no geocoding). Prints, per file,
what happened, how many of the columns the layout spec expects recognition found (field and
column both right), and the share of records carrying each item.

    .venv/bin/python benchmarks/layouts_heldout.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import layout_corpus as LC  # noqa: E402
from istvhub._errors import NeedsMapping  # noqa: E402
from istvhub.ingest.core import ingest_bytes  # noqa: E402
from istvhub.ingest.layouts import detect_layout, vocabulary  # noqa: E402
from istvhub.ingest.readers import read_table  # noqa: E402
from istvhub.ingest.recognise import recognise  # noqa: E402
from istvhub.store import open_store  # noqa: E402


def columns_right(name: str, data: bytes, want: dict[str, str]) -> str:
    """Expected (field, column) pairs recognition found, of those the spec names."""
    t = read_table(data, name, vocabulary())
    rec = recognise(t.headers, t.frame, detect_layout(t.headers)[0])
    got = {**rec.columns, **{f"flag:{c}": w for c, w in rec.weapon_flags.items()}}
    ok = sum(1 for f, c in want.items() if got.get(f) == c)
    return f"{ok}/{len(want)}"


def main() -> None:
    base = LC.base()
    print(f"base: {LC.BASE_FILE.name}, {len(base)} records")
    print("file | status | columns | s | location text | location type | weapon | age band | sex")
    for mk in LC.HELDOUT + LC.CORPUS:
        name, data, want = mk(base)
        cols = columns_right(name, data, want)
        with tempfile.TemporaryDirectory() as d:
            st = open_store(f"sqlite:///{d}/b.db")
            t0 = time.perf_counter()
            try:
                res = ingest_bytes(data, name, st, geocode=False, home=Path(d))
            except NeedsMapping as exc:
                dt = time.perf_counter() - t0
                print(
                    f"{name} | held: needs mapping for {', '.join(exc.missing)} | {cols} | {dt:.2f}"
                )
                st.dispose()
                continue
            dt = time.perf_counter() - t0
            r = st.current_records()
            st.dispose()

        def pct(mask) -> str:
            return f"{100 * mask.mean():.0f}%"

        print(
            f"{name} | {res.status} ({res.adapter}) | {cols} | {dt:.2f} | "
            f"{pct(r['location_text'].notna())} | {pct(r['location_type'] != 'unknown')} | "
            f"{pct(r['weapon'] != 'unknown')} | {pct(r['age_band'] != 'unknown')} | "
            f"{pct(r['sex'] != 'unknown')}"
        )
    print(
        "base (the sample month itself) | - | - | - | "
        f"{100 * base['location_text'].notna().mean():.0f}% | "
        f"{100 * (base['location_type'] != 'unknown').mean():.0f}% | "
        f"{100 * (base['weapon'] != 'unknown').mean():.0f}% | "
        f"{100 * (base['age_band'] != 'unknown').mean():.0f}% | "
        f"{100 * (base['sex'] != 'unknown').mean():.0f}%"
    )


def small_months() -> None:
    """Recognition on the first N records only (a small department's month, often one sex):
    how many layouts have every expected column found."""
    base = LC.base()
    for n in (3, 7, 12):
        b = base.head(n).reset_index(drop=True)
        found = [columns_right(*mk(b)) for mk in LC.HELDOUT + LC.CORPUS]
        full = sum(1 for f in found if f.split("/")[0] == f.split("/")[1])
        print(f"first {n} records: all expected columns found in {full} of {len(found)} layouts")


if __name__ == "__main__":
    main()
    small_months()
