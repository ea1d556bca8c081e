"""The import graph: one door to the database (issue 15.1).

Every module of the package is parsed (imports inside functions included); a module outside
``istvhub.store`` must not import SQLAlchemy or Alembic, the store's tables or backends, nor reach
into a store's engine or private transaction helpers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import istvhub
from istvhub.compliance.core import STAT_COLUMNS
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
    assert tuple(STAT_COLUMNS) == STORE_STAT_COLUMNS


def test_the_period_pattern_is_written_once():
    """A month is ``YYYY-MM``: its regex lives in ``istvhub.core.periods`` and nowhere else."""
    month_alternation = "(0[1-9]|1[0-2])"
    where = [name for name, src in package_modules() if month_alternation in src]
    assert where == ["istvhub.core.periods"]
