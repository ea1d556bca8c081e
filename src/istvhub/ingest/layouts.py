"""Declarative layouts: one engine, layouts as TOML data (``ingest/layouts/*.toml``).

A layout names the columns of its canonical fields (``[columns]``), its code lists (``[codes]``),
inline code maps (``[code_maps.<field>]``), date conventions (``[formats]``), constants
(``[constants] department = "..."``), how the period is found (``period_from``) and the header
``signature`` that identifies it. Shared synonyms (``_fields.toml``) back up every layout, so a
feed "like" a known layout but spelled differently still maps.

Built-in layouts are named by their file (``istv_mds``); onboarding files (any TOML with
``kind = "mapping"``, in the package's layouts dir or a directory named by ``ISTVHUB_LAYOUTS``)
are named ``mapping:<name>``. ``--adapter mapping:/path/to/file.toml`` loads one by path.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from istvhub._errors import FileRejected
from istvhub.ingest.headers import HeaderKey, best_assignment, match_score

LAYOUTS_DIR = Path(__file__).resolve().parent / "layouts"

#: Canonical input fields an extract may carry (see ``_fields.toml`` for spellings).
FIELDS = (
    "department",
    "period_start",
    "period_end",
    "period",
    "source_key",
    "arrival_datetime",
    "arrival_date",
    "arrival_time",
    "incident_datetime",
    "incident_date",
    "incident_time",
    "weapon_code",
    "weapon_text",
    "location_type_code",
    "location_text",
    "age_band",
    "age",
    "sex",
    "intent",
    "mechanism",
    "place",
)


@dataclass
class Layout:
    name: str
    title: str = ""
    kind: str = "builtin"  # builtin | mapping | generic
    signature: list[str] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    code_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    dayfirst: bool = True
    midnight_unknown: bool = True
    period_from: list[str] = field(default_factory=lambda: ["column", "option", "arrival"])
    filter_field: str | None = None
    filter_keep: list[str] = field(default_factory=list)
    encoding: str | None = None
    source: str | None = None
    #: key items the file does not carry (declared when a mapping is accepted; issue 17)
    absent: list[str] = field(default_factory=list)
    #: one Y/N column per weapon: column -> canonical weapon
    weapon_flags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, name: str, source: str | None = None) -> Layout:
        fmts = d.get("formats", {})
        kind = d.get("kind", "builtin")
        cols = {
            k: ([v] if isinstance(v, str) else list(v)) for k, v in d.get("columns", {}).items()
        }
        unknown = set(cols) - set(FIELDS)
        if unknown:
            raise FileRejected(f"layout names unknown fields {sorted(unknown)}", file=source)
        date_formats = fmts.get("date", [])
        if isinstance(date_formats, str):
            date_formats = [date_formats]
        return cls(
            name=name,
            title=d.get("title", name),
            kind=kind,
            signature=list(d.get("signature", [])) or [c[0] for c in cols.values()],
            columns=cols,
            codes=dict(d.get("codes", {})),
            code_maps={
                k: {str(a): str(b) for a, b in v.items()} for k, v in d.get("code_maps", {}).items()
            },
            constants={k: str(v) for k, v in d.get("constants", {}).items()},
            date_formats=list(date_formats),
            dayfirst=bool(fmts.get("dayfirst", True)),
            midnight_unknown=bool(fmts.get("midnight_unknown", True)),
            period_from=list(d.get("period_from", ["column", "option", "arrival"])),
            filter_field=d.get("filter_field"),
            filter_keep=list(d.get("filter_keep", [])),
            encoding=fmts.get("encoding"),
            source=source,
            absent=[str(x) for x in d.get("absent", [])],
            weapon_flags={str(a): str(b) for a, b in d.get("weapon_flags", {}).items()},
        )

    def wanted(self) -> dict[str, list[tuple[str, int]]]:
        """Field -> spellings: the layout's own names first, then the shared synonyms."""
        syn = synonyms()
        out: dict[str, list[tuple[str, int]]] = {}
        for f in FIELDS:
            own = [(c, 0) for c in self.columns.get(f, [])]
            out[f] = own + [(c, 1) for c in syn.get(f, [])]
        return out

    def map_columns(self, headers: list[str]) -> dict[str, str]:
        return best_assignment(headers, self.wanted())

    def signature_score(self, headers: list[str]) -> float:
        """Share of the signature headers present (tolerantly) in ``headers``."""
        if not self.signature:
            return 0.0
        hk = [HeaderKey.of(h) for h in headers]
        hits = 0
        for sig in self.signature:
            k = HeaderKey.of(sig)
            if any(match_score(h, k) > 0 for h in hk):
                hits += 1
        return hits / len(self.signature)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    with open(LAYOUTS_DIR / "_fields.toml", "rb") as fh:
        return {k: list(v) for k, v in tomllib.load(fh)["synonyms"].items()}


def _layout_dirs() -> list[Path]:
    dirs = [LAYOUTS_DIR]
    env = os.environ.get("ISTVHUB_LAYOUTS")
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    return dirs


def load_layout_file(path: Path) -> Layout:
    try:
        with open(path, "rb") as fh:
            d = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FileRejected(
            f"cannot read layout file ({type(exc).__name__})", file=path.name
        ) from exc
    stem = d.get("name", path.stem)
    if d.get("kind") == "mapping" and not str(stem).startswith("mapping:"):
        stem = f"mapping:{stem}"
    return Layout.from_dict(d, name=stem, source=str(path))


def all_layouts() -> list[Layout]:
    """Every built-in and onboarding layout, built-ins first."""
    out: list[Layout] = []
    seen: set[str] = set()
    for d in _layout_dirs():
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*.toml")):
            if p.name.startswith("_"):
                continue
            lay = load_layout_file(p)
            if lay.name not in seen:
                seen.add(lay.name)
                out.append(lay)
    return out


def generic_layout() -> Layout:
    """No known signature: map by the shared synonyms only, codes from every code list."""
    return Layout(name="generic", title="Generic (header synonyms)", kind="generic")


def get_layout(name: str) -> Layout:
    """A layout by name (``istv_mds``, ``mapping:acme``, ``mapping:/path/file.toml``)."""
    if name.startswith("mapping:"):
        target = name.split(":", 1)[1]
        p = Path(target)
        if p.suffix == ".toml" and p.is_file():
            return load_layout_file(p)
    if name == "generic":
        return generic_layout()
    for lay in all_layouts():
        if lay.name == name or lay.name == f"mapping:{name}":
            return lay
    names = ", ".join(sorted(x.name for x in all_layouts()))
    raise FileRejected(f"unknown adapter (known: {names}, generic)", field="--adapter")


def vocabulary(extra: Layout | None = None) -> list[HeaderKey]:
    """Every spelling any layout or synonym knows: used to find the header row."""
    words: set[str] = set()
    for v in synonyms().values():
        words.update(v)
    for lay in [*all_layouts(), *([extra] if extra else [])]:
        for cols in lay.columns.values():
            words.update(cols)
    return [HeaderKey.of(w) for w in sorted(words)]


def detect_layout(headers: list[str]) -> tuple[Layout, float]:
    """The layout whose signature best matches the headers (>= 0.5), else the generic one."""
    best: tuple[float, int, Layout] | None = None
    for lay in all_layouts():
        sc = lay.signature_score(headers)
        n = len(lay.map_columns(headers)) if sc >= 0.5 else 0
        key = (sc, n)
        if sc >= 0.5 and (best is None or key > best[:2]):
            best = (sc, n, lay)
    if best is None:
        return generic_layout(), 0.0
    return best[2], best[0]
