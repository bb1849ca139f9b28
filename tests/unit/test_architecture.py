"""The arrows the README's architecture section allows, checked on the code's own imports.

- nothing in the product (``svi_acd``) imports the lab: the lab imports the product;
- ``routing/`` is the pure decision core: no I/O library, no other capability but the
  settings it decides on;
- no import cycle between the product's modules (a package may lean on another's tables, as
  ``db.models`` gathers them, without its modules going round in a circle).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCT = REPO / "svi_acd"
# Libraries that reach the network, the disk, other processes or the clock of the loop.
IO_LIBRARIES = {
    "asyncio", "socket", "subprocess", "sqlalchemy", "aiohttp", "redis", "asyncpg",
    "aiosqlite", "alembic", "openpyxl", "shutil", "urllib", "http", "smtplib", "ssl",
}  # fmt: skip
# What the pure core may use of the product besides itself.
ROUTING_MAY_IMPORT = {"svi_acd.config", "svi_acd.french"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (``from . import x`` resolved), at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            # "from package import module" imports the module too.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def product_files() -> list[Path]:
    return sorted(PRODUCT.rglob("*.py"))


def test_nothing_in_the_product_imports_the_lab() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(
            name for name in imported_modules(path)
            if name == "lab" or name.startswith(("lab.", "svi_acd.lab"))
        )
        for path in product_files()
    }  # fmt: skip
    assert {path: names for path, names in offenders.items() if names} == {}
    assert not list((PRODUCT / "lab").glob("*.py"))  # the lab is the top-level lab/ package


def test_routing_is_pure_no_io_library_and_no_other_capability() -> None:
    offenders: dict[str, list[str]] = {}
    for path in sorted((PRODUCT / "routing").glob("*.py")):
        if path.name == "commands.py":  # the `svi-acd route` command: the edge, not the core
            continue
        bad = [
            name for name in imported_modules(path)
            if name.split(".")[0] in IO_LIBRARIES
            or (name.startswith("svi_acd.") and not name.startswith("svi_acd.routing")
                and not any(name.startswith(allowed) for allowed in ROUTING_MAY_IMPORT))
        ]  # fmt: skip
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_no_import_cycle_between_the_products_modules() -> None:
    modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): path
        for path in product_files()
    }
    arrows: dict[str, set[str]] = defaultdict(set)
    for source, path in modules.items():
        for name in imported_modules(path):
            # "from svi_acd.x import y": y may be a module of the package, or a name in it.
            target = name if name in modules else name.rsplit(".", 1)[0]
            if target in modules and target != source:
                arrows[source].add(target)

    def reaches(start: str, goal: str) -> list[str] | None:
        stack, seen = [(start, [start])], {start}
        while stack:
            node, trail = stack.pop()
            for nxt in sorted(arrows.get(node, ())):
                if nxt == goal:
                    return [*trail, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        return None

    cycles = {
        " -> ".join(trail)
        for source in sorted(arrows)
        for target in sorted(arrows[source])
        if (trail := reaches(target, source))
    }
    assert cycles == set()
