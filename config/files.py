"""Reading the data files shipped in this package (the model and persona catalogs)."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any


def read_toml(filename: str) -> dict[str, Any]:
    text = resources.files("config").joinpath(filename).read_text(encoding="utf-8")
    return tomllib.loads(text)
