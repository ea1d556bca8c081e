"""What a file says about whose it is before it is adapted: a department named in the file name,
in title rows or by a site column, and a period in the file name. The identity checks
(:mod:`istvhub.ingest.identity`) compare these with what the rows say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from istvhub.core.periods import period_in_name
from istvhub.ingest.layouts import Layout
from istvhub.store import Store


def department_from_filename(filename: str, known: set[str]) -> str | None:
    """A registered ODS code named in the file name (``RQXM1_2025-01.csv``), when exactly one
    is: extracts without a site column are usually named after their site."""
    toks = {t.upper() for t in re.split(r"[^A-Za-z0-9]+", Path(filename).stem) if t}
    hits = toks & known
    return hits.pop() if len(hits) == 1 else None


def department_from_text(lines: list[str], aliases: dict[str, str]) -> str | None:
    """A registered department named in title rows ("Assault attendances - <site name>")."""
    from istvhub.ingest.parsing import norm_text

    text = f" {norm_text(' '.join(lines))} "
    if not text.strip():
        return None
    hits = {code for name, code in aliases.items() if len(name) >= 8 and f" {name} " in text}
    return hits.pop() if len(hits) == 1 else None


def department_aliases(store: Store) -> dict[str, str]:
    """Normalised registry names -> ODS code ("st thomas hospital" -> RJ122)."""
    from istvhub.ingest.parsing import norm_text

    deps = store.departments()
    out: dict[str, str] = {}
    for code, name in zip(deps["ods_code"], deps["name"], strict=True):
        if name:
            n = norm_text(str(name).replace("'", ""))
            out[n] = code
            out[norm_text(str(name))] = code
        out[norm_text(code)] = code
    return out


def department_hint(
    option: str | None, from_name: str | None, table: Any, layout: Layout
) -> str | None:
    """The department a file is for, before adapting it: the option, the file name or title
    rows, else a site column holding one code (to find the department's accepted mapping)."""
    if option or from_name:
        return (option or from_name or "").strip().upper()
    col = layout.map_columns(table.headers).get("department")
    if col is None:
        return layout.constants.get("department")
    vals = {v.strip().upper() for v in table.frame[col].head(500) if v and v.strip()}
    return vals.pop() if len(vals) == 1 else None


def period_from_filename(filename: str) -> str | None:
    """YYYY-MM named in a file name (``RJ122_2025-03.csv``, ``rj122-202503.csv``)."""
    return period_in_name(Path(filename).stem)
