"""The import graph: one door to the database (issue 15.1).

Every module of the package is parsed (imports inside functions included); a module outside
``istvhub.store`` must not import SQLAlchemy or Alembic, the store's tables or backends, nor reach
into a store's engine or private transaction helpers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import istvhub
from istvhub.compliance.columns import STAT_COLUMNS
from istvhub.store.repos.stats import STAT_COLUMNS as STORE_STAT_COLUMNS

PKG = Path(istvhub.__file__).parent
#: modules only ``istvhub.store`` may import
DB_ONLY = ("sqlalchemy", "alembic", "istvhub.store.schema", "istvhub.store.backends")
#: attributes of a Store only ``istvhub.store`` may touch
STORE_PRIVATE = ("engine", "_write_txn", "_audit")


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted module) of every import anywhere in ``tree``."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def db_violations(source: str, name: str) -> list[str]:
    """What in ``source`` (module ``name``) goes round the store."""
    if name == "istvhub.store" or name.startswith("istvhub.store."):
        return []
    tree = ast.parse(source)
    bad = [
        f"{name}:{line} imports {mod}"
        for line, mod in imported(tree)
        if any(mod == d or mod.startswith(d + ".") for d in DB_ONLY)
    ]
    bad += [
        f"{name}:{node.lineno} uses .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in STORE_PRIVATE
    ]
    return bad


def package_modules() -> list[tuple[str, str]]:
    return [
        (module_name(p), p.read_text(encoding="utf-8"))
        for p in sorted(PKG.rglob("*.py"))
        if "migrations" not in p.parts
    ]


def test_the_checker_sees_every_way_round_the_store():
    src = (
        "import sqlalchemy as sa\n"
        "from sqlalchemy.engine import Engine\n"
        "def f(store):\n"
        "    from istvhub.store import schema\n"
        "    import alembic.command\n"
        "    return store.engine.connect()\n"
    )
    bad = db_violations(src, "istvhub.compliance.read")
    assert [b.split(" ", 1)[1] for b in bad] == [
        "imports sqlalchemy",
        "imports sqlalchemy.engine",
        "imports sqlalchemy.engine.Engine",
        "imports istvhub.store.schema",
        "imports alembic.command",
        "uses .engine",
    ]
    assert db_violations(src, "istvhub.store.repos.stats") == []
    assert db_violations("from istvhub.store.repos import Db\n", "istvhub.api.users") == []


def test_no_module_outside_store_reaches_the_database():
    modules = package_modules()
    assert len(modules) > 100  # the whole package was read, not an empty glob
    assert any(n.startswith("istvhub.store.repos.") for n, _ in modules)
    bad = [v for name, src in modules for v in db_violations(src, name)]
    assert bad == []


def test_compliance_counts_are_the_store_archive_columns():
    # one definition: compliance re-exports the store's tuple rather than writing a copy
    assert STAT_COLUMNS is STORE_STAT_COLUMNS
    assert STAT_COLUMNS[0] == "records" and "n_ambiguous" in STAT_COLUMNS
    src = (PKG / "compliance" / "columns.py").read_text(encoding="utf-8")
    assert '"n_incident_time",' not in src


def test_the_period_pattern_is_written_once():
    """A month is ``YYYY-MM``: its regex lives in ``istvhub.core.periods`` and nowhere else."""
    month_alternation = "(0[1-9]|1[0-2])"
    where = [name for name, src in package_modules() if month_alternation in src]
    assert where == ["istvhub.core.periods"]


#: the stage packages: dependencies between them point down the pipeline (issue 15.2)
STAGES = {
    "ingest",
    "gazetteer",
    "geocode",
    "hotblocks",
    "compliance",
    "equality",
    "feedback",
    "compare",
    "retention",
    "areas",
    "api",
    "pipeline",
}


def stage_of(name: str) -> str | None:
    """The istvhub stage a module belongs to (``pandas.api`` is no stage, ``istvhub.api.x`` is)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "istvhub" and parts[1] in STAGES else None


def _justified(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import itself, or heading the block of imports it belongs to, says why
    it is lazy."""
    if any("#" in line for line in lines[node.lineno - 1 : node.end_lineno]):
        return True
    i = node.lineno - 2
    while i >= 0 and lines[i].strip().startswith(("from ", "import ", "#")):
        if lines[i].strip().startswith("#"):
            return True
        i -= 1
    return False


def sideways_imports(source: str, name: str) -> list[str]:
    """Imports inside a function, from another stage package, with no comment saying why."""
    me = stage_of(name)
    if me is None:
        return []
    lines = source.split("\n")
    bad = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for line, mod in imported(node):
                other = stage_of(mod + ".x")
                if other and other != me and not _justified(lines, node):
                    bad.append(f"{name}:{line} imports {mod} inside a function")
                    break
    return bad


def test_the_sideways_check_sees_an_unexplained_lazy_import():
    src = (
        "def f():\n"
        "    from istvhub.hotblocks.aggregate import Filters\n"
        "def g():\n"
        "    # hot blocks load lazily: they cost a second at start-up\n"
        "    from istvhub.hotblocks.service import load_network\n"
        "def h():\n"
        "    from istvhub.api.routes.layers import x\n"
    )
    assert sideways_imports(src, "istvhub.compare.commands") == [
        "istvhub.compare.commands:2 imports istvhub.hotblocks.aggregate inside a function",
        "istvhub.compare.commands:7 imports istvhub.api.routes.layers inside a function",
    ]
    assert sideways_imports(src, "istvhub.api.routes.ogc") == [
        "istvhub.api.routes.ogc:2 imports istvhub.hotblocks.aggregate inside a function"
    ]


def test_no_unexplained_import_inside_a_function_across_stages():
    bad = [v for name, src in package_modules() for v in sideways_imports(src, name)]
    assert bad == []


#: what routes share lives in ``api/scope.py``; a route module never imports these from another
SHARED_IN_SCOPE = ("default_range", "scoped_boroughs", "wants_page")


def test_cli_and_api_share_services_not_typer_files():
    """Only ``istvhub.cli`` imports a ``<stage>.commands`` module (the API, the pipeline and the
    pages call ``<stage>/service.py``); the OGC routes import no other route module; the helpers
    routes share come from ``api/scope.py``."""
    bad = []
    for name, src in package_modules():
        for line, mod in imported(ast.parse(src)):
            parts = mod.split(".")
            if name != "istvhub.cli" and len(parts) == 3 and parts[2] == "commands":
                if mod != name:
                    bad.append(f"{name}:{line} imports {mod}")
            if name == "istvhub.api.routes.ogc" and mod.startswith("istvhub.api.routes."):
                bad.append(f"{name}:{line} imports {mod}")
            if mod.startswith("istvhub.api.routes.") and parts[-1] in SHARED_IN_SCOPE:
                bad.append(f"{name}:{line} imports {mod} (it lives in istvhub.api.scope)")
    assert bad == []
    assert {"compliance", "equality", "feedback", "compare", "hotblocks"} <= {
        n.split(".")[1] for n, _ in package_modules() if n.endswith(".service")
    }


#: route modules that still call another route module's handler for its exact response (the
#: map's units layer is /layers/hotblocks; the product pages embed /equality and /feedback).
#: Each should become an api-level function both call; the list only ever shrinks.
HANDLER_CALLS = {
    ("istvhub.api.routes.basemap", "istvhub.api.routes.layers.hotblocks"),
    ("istvhub.api.routes.pages_products", "istvhub.api.routes.equality.equality"),
    ("istvhub.api.routes.pages_products", "istvhub.api.routes.feedback.feedback"),
}


def route_to_route_imports(source: str, name: str) -> list[str]:
    """Imports (anywhere in the module) of one route module from another: what route modules
    share lives at the api level (``api/deps.py``, ``api/pages_common.py``, ``api/scope.py``)."""
    if not name.startswith("istvhub.api.routes."):
        return []
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            pairs = [(a.name, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            pairs = [(node.module, f"{node.module}.{a.name}") for a in node.names]
        else:
            continue
        for mod, what in pairs:
            if mod.startswith("istvhub.api.routes.") and mod != name:
                if (name, what) not in HANDLER_CALLS:
                    bad.append(f"{name}:{node.lineno} imports {what}")
    return bad


def test_the_route_check_sees_a_route_importing_a_route():
    src = (
        "from istvhub.api.deps import LayerReader\n"
        "from istvhub.api.routes.pages import PageUser\n"
        "def f():\n"
        "    import istvhub.api.routes.ogc\n"
    )
    assert route_to_route_imports(src, "istvhub.api.routes.users_pages") == [
        "istvhub.api.routes.users_pages:2 imports istvhub.api.routes.pages.PageUser",
        "istvhub.api.routes.users_pages:4 imports istvhub.api.routes.ogc",
    ]
    assert route_to_route_imports(src, "istvhub.api.app") == []


def test_route_modules_do_not_import_each_other():
    routes = [(n, s) for n, s in package_modules() if n.startswith("istvhub.api.routes.")]
    assert len(routes) > 10
    bad = [v for name, src in routes for v in route_to_route_imports(src, name)]
    assert bad == []
    # the allowance is for calls that are still there, not a standing exemption
    still = {
        (name, f"{node.module}.{a.name}")
        for name, src in routes
        for node in ast.walk(ast.parse(src))
        if isinstance(node, ast.ImportFrom) and node.module
        for a in node.names
    }
    assert HANDLER_CALLS <= still


#: the pipeline from the bottom up: a stage imports (at module level) only stages on a lower rank
STAGE_RANK = {
    "gazetteer": 0,
    "geocode": 1,
    "ingest": 2,
    "hotblocks": 3,
    **dict.fromkeys(("compare", "compliance", "equality", "feedback", "retention", "areas"), 4),
    **dict.fromkeys(("api", "pipeline"), 5),
}


def upward_imports(source: str, name: str) -> list[str]:
    """Module-level imports of a stage at the same or a higher rank (imports inside functions are
    the sideways check's business)."""
    me = stage_of(name)
    if me is None:
        return []
    bad = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            other = stage_of(node.module + ".x")
            if other and other != me and STAGE_RANK[other] >= STAGE_RANK[me]:
                bad.append(f"{name}:{node.lineno} imports {node.module}")
    return bad


def test_the_direction_check_sees_an_import_up_the_pipeline():
    src = "from istvhub.gazetteer.build import x\nfrom istvhub.api.scope import y\n"
    assert upward_imports(src, "istvhub.ingest.core") == [
        "istvhub.ingest.core:2 imports istvhub.api.scope"
    ]
    assert upward_imports(src, "istvhub.compare.report") == [
        "istvhub.compare.report:2 imports istvhub.api.scope"
    ]
    assert upward_imports("from istvhub.compliance.core import x\n", "istvhub.equality.read") == [
        "istvhub.equality.read:1 imports istvhub.compliance.core"
    ]


def test_dependencies_point_down_the_pipeline():
    assert set(STAGE_RANK) == STAGES
    bad = [v for name, src in package_modules() for v in upward_imports(src, name)]
    assert bad == []
