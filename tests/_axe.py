"""axe-core (vendored from npm under tests/browser/vendor) run in the page a browser test has
open: one helper for every browser test, so each page is judged by the same rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "browser" / "vendor" / "axe-core" / "axe.min.js"


def axe_serious(drv: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (each with the
    selectors of the nodes it found, for the failure message)."""
    drv.execute_script(AXE.read_text(encoding="utf-8"))
    found = drv.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run().then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))));"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]
