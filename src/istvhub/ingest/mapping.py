"""Hold, don't guess (issue 17): the mapping TOML proposed for a file whose key items have no
confident column, its checking when an analyst accepts it, and finding a department's accepted
mapping again next month.

The proposal is an ordinary onboarding layout (``kind = "mapping"``, see
``ingest/layouts/README.md``) plus ``absent`` (key items the file does not carry) and
``[weapon_flags]`` (one Y/N column per weapon). It holds column names and code words, never a
free-text cell.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from typing import Any

import pandas as pd

from istvhub._errors import FileRejected
from istvhub.ingest.ages import straddles
from istvhub.ingest.codevalues import CODED_FIELDS, unmapped_values
from istvhub.ingest.layouts import FIELDS, Layout
from istvhub.ingest.recognise import ITEM_WORDS, KEY_ITEMS, Recognition, recognise

#: a department's mapping is reused when this share of its signature is in the file's header
REUSE_SCORE = 0.8
_FIELD_FOR_ITEM = {
    "location_text": "location_text",
    "arrival_date": "arrival_date",
    "incident_date": "incident_date",
    "weapon": "weapon_code",
    "age": "age",
    "sex": "sex",
    "location_type": "location_type_code",
}


def mapping_name(department: str, headers: list[str]) -> str:
    digest = hashlib.sha256(json.dumps(sorted(headers)).encode()).hexdigest()[:8]
    return f"{department.lower()}_{digest}"


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def propose_mapping(
    headers: list[str],
    rec: Recognition,
    *,
    department: str | None,
    file: str,
    frame: pd.DataFrame | None = None,
) -> str:
    """The TOML an analyst accepts as is or edits: recognised columns with their scores, for
    each key item without a confident column a commented line naming the best candidates, and
    (given the ``frame``) the code values of recognised columns that map to nothing, to fill."""
    dept = department or "UNKNOWN"
    name = mapping_name(dept, headers)
    used = set(rec.columns.values()) | set(rec.weapon_flags)
    lines = [
        f"# Proposed mapping for {file}, made by istvhub from the header words and the values.",
        "# Check each line. Give a column to every item marked NEEDS A COLUMN, or list the item",
        "# in `absent` when the file does not carry it; then accept (istvhub ingest FILE",
        "# --accept-mapping, or the upload page). Accepted mappings are kept for the department",
        "# and used for its next files with the same header.",
        'kind = "mapping"',
        f"name = {_q(name)}",
        f"title = {_q(f'{dept} extract (accepted mapping)')}",
        f"signature = [{', '.join(_q(h) for h in headers if h in used)}]",
        '# key items the file does not carry, e.g. absent = ["location_type"]',
        "absent = []",
        "",
        "[constants]",
        f"department = {_q(dept)}" if department else '# department = "ODS code"',
        "",
        "[columns]",
    ]
    for f in FIELDS:
        a = rec.assignments.get(f)
        if a is not None and f in rec.columns:
            lines.append(f"{f} = {_q(a.column)}  # {a.how}, score {a.score:.2f}")
    for item in rec.missing_items():
        cands = rec.candidates.get(item, [])
        hint = (
            "; candidates: " + ", ".join(f"{_q(c)} as {f} ({s:.2f})" for f, c, s in cands)
            if cands
            else "; no candidate column"
        )
        lines.append(
            f'# NEEDS A COLUMN: {ITEM_WORDS[item]}{hint}\n# {_FIELD_FOR_ITEM[item]} = "column name"'
        )
    if rec.weapon_flags:
        lines += ["", "[weapon_flags]"]
        lines += [f"{_q(c)} = {_q(w)}" for c, w in rec.weapon_flags.items()]
    if frame is not None:
        lines += _code_map_lines(frame, rec.columns)
    return "\n".join(lines) + "\n"


def _code_map_lines(frame: pd.DataFrame, columns: dict[str, str]) -> list[str]:
    """``[code_maps.<field>]`` with one empty line per unrecognised value: a value left "" stays
    unknown (and a row warning), a filled one maps to that hub value next time too."""
    lines: list[str] = []
    for f, (listed, hidden) in unmapped_values(frame, columns).items():
        targets = ", ".join(CODED_FIELDS[f][1])
        lines += [
            "",
            f"[code_maps.{f}]",
            f"# values in {_q(columns[f])} that match no code list: recorded as unknown unless",
            f"# you give each a hub value ({targets})",
        ]
        if f == "age_band":
            lines.append("# a band that straddles hub bands (16-24) is best left unknown")
        for v, n in listed:
            spans = straddles(v) if f == "age_band" else []
            note = f"; straddles {', '.join(spans)}" if spans else ""
            lines.append(f'{_q(v)} = ""  # {n} rows{note}')
        if hidden:
            lines.append(f"# and {hidden} rows of longer texts, not listed here")
    return lines


def _check_code_maps(layout: Layout, file: str) -> None:
    """Each filled code map value must be a hub value of its field ("" leaves it unknown)."""
    for f, cmap in layout.code_maps.items():
        allowed = CODED_FIELDS.get(f, (None, ()))[1]
        bad = sorted({v for v in cmap.values() if v and allowed and v not in allowed})
        if bad:
            raise FileRejected(
                f"code_maps.{f} maps to {bad}, which are not hub values "
                f'(use one of {", ".join(allowed)}, or "" for unknown)',
                file=file,
                field=f,
            )


def parse_mapping(text: str, headers: list[str], *, file: str) -> tuple[Layout, str]:
    """Check an accepted mapping against the file: valid TOML, columns that exist, every key
    item given a column or declared absent. Returns (layout, its name)."""
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileRejected(
            f"the mapping is not valid TOML ({exc})", file=file, field="mapping"
        ) from exc
    d["kind"] = "mapping"
    name = str(d.get("name") or "accepted")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", name):
        raise FileRejected("mapping name: letters, digits, _ . - only", file=file, field="name")
    layout = Layout.from_dict(d, name=f"mapping:{name}", source=None)
    have = set(headers)
    for f, cols in layout.columns.items():
        if not any(c in have for c in cols):
            raise FileRejected(
                f"the mapping gives {f} the column {cols[0]!r}, which the file does not have",
                file=file,
                field=f,
            )
    for c in layout.weapon_flags:
        if c not in have:
            raise FileRejected(
                f"the mapping names weapon flag column {c!r}, which the file does not have",
                file=file,
                field="weapon_flags",
            )
    _check_code_maps(layout, file)
    bad = [a for a in layout.absent if a not in KEY_ITEMS]
    if bad:
        raise FileRejected(
            f"absent lists {bad}; key items are {sorted(KEY_ITEMS)}", file=file, field="absent"
        )
    return layout, name


def still_missing(layout: Layout, headers: list[str], frame: pd.DataFrame) -> list[str]:
    """Key items an accepted mapping leaves without a column (and not declared absent)."""
    return recognise(headers, frame, layout).missing_items()


def department_layout(store: Any, department: str | None, headers: list[str]) -> Layout | None:
    """The department's accepted mapping whose signature this header carries, if any."""
    if not department:
        return None
    from istvhub.store.mappings import department_mappings

    for m in department_mappings(store, department):
        try:
            d = tomllib.loads(str(m["toml"]))
        except tomllib.TOMLDecodeError:
            continue
        d["kind"] = "mapping"
        lay = Layout.from_dict(d, name=f"mapping:{m['name']}")
        lay.constants.setdefault("department", department)
        if lay.signature_score(headers) >= REUSE_SCORE:
            return lay
    return None
