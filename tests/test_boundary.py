"""The layout's rules: the core imports no platform library and no adapter; adapters import
nothing of each other and reach the core only through its boundary and command catalog; both
platforms have the same rooms; no import circle; no module shadows a library or grows too big."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBRARIES = {"telegram", "telegramify_markdown", "discord"}
OWN_PACKAGES = ("bots", "core", "config")
ADAPTERS = ("telegram_adapter", "discord_adapter")
# What each platform's adapter has, under the same names.
ADAPTER_ROOMS = {
    "__init__.py",  # run_<platform>
    "startup.py",  # start-up and shutdown
    "options.py",  # its settings
    "incoming.py",  # every platform event -> IncomingMessage
    "handlers.py",  # event -> core -> delivery, replies in flight
    "delivery.py",  # every ReplyEvent -> platform messages
    "buttons.py",  # choices as the platform's buttons
    "commands.py",  # the platform's command menu, from the core's catalog
}
# All an adapter may import of the core: what crosses the boundary, and the command catalog.
CORE_FOR_ADAPTERS = {"core.boundary", "core.commands.catalog"}
MAX_LINES = 400


def own_modules() -> dict[str, Path]:
    modules = {}
    for package in OWN_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, including under TYPE_CHECKING and inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_core_and_config_import_no_platform_library() -> None:
    for folder in ("core", "config"):
        for path in (ROOT / folder).rglob("*.py"):
            leaked = top_level(imported_modules(path)) & (PLATFORM_LIBRARIES | {"bots"})
            assert not leaked, f"{path.relative_to(ROOT)} imports {leaked}"


def test_adapters_import_nothing_of_each_other() -> None:
    adapters = {
        "telegram_adapter": "bots.discord_adapter",
        "discord_adapter": "bots.telegram_adapter",
    }
    for package, forbidden in adapters.items():
        for path in (ROOT / "bots" / package).rglob("*.py"):
            assert not any(name.startswith(forbidden) for name in imported_modules(path)), path


def test_adapters_reach_the_core_only_through_its_boundary() -> None:
    modules = own_modules()
    adapter_files = [ROOT / "bots" / "console.py"]
    for package in ADAPTERS:
        adapter_files += (ROOT / "bots" / package).rglob("*.py")
    for path in adapter_files:
        used = {name for name in imported_modules(path) if name in modules}
        beyond = {name for name in used if name.startswith("core")} - CORE_FOR_ADAPTERS
        assert not beyond, f"{path.relative_to(ROOT)} imports {beyond}"


def test_both_platforms_have_the_same_rooms() -> None:
    for package in ADAPTERS:
        rooms = {path.name for path in (ROOT / "bots" / package).glob("*.py")}
        assert rooms >= ADAPTER_ROOMS, f"{package} lacks {ADAPTER_ROOMS - rooms}"


def test_no_import_circle() -> None:
    modules = own_modules()
    graph = {
        name: {imported for imported in imported_modules(path) if imported in modules} - {name}
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            circle = [*trail[trail.index(name) :], name]
            raise AssertionError("import circle: " + " -> ".join(circle))
        if name in done:
            return
        for imported in sorted(graph[name]):
            # A package imports its own modules (re-exports); that is not a circle of rooms.
            if not imported.startswith(name + "."):
                visit(imported, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_no_module_shadows_a_library() -> None:
    mine = set(OWN_PACKAGES) | {"fakes", "bench", "tests"}
    installed = set(importlib.metadata.packages_distributions()) - mine
    taken = set(sys.stdlib_module_names) | installed | PLATFORM_LIBRARIES
    for name, path in own_modules().items():
        stem = name.split(".")[-1]
        assert stem not in taken or stem in OWN_PACKAGES, f"{path.relative_to(ROOT)} is {stem!r}"


def test_modules_stay_small() -> None:
    for package in ("core", "bots"):
        for path in (ROOT / package).rglob("*.py"):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"
