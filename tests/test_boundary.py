"""The core/adapter boundary: the core imports no platform library; adapters not each other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBRARIES = {"telegram", "telegramify_markdown", "discord"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
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


def test_no_module_shadows_a_library() -> None:
    for name in PLATFORM_LIBRARIES | {"openai", "tiktoken", "sqlalchemy"}:
        for folder in ("bots", "core", "config"):
            assert not (ROOT / folder / f"{name}.py").exists()
            assert not (ROOT / folder / name).is_dir()
