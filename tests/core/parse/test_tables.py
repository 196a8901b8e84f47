"""The tables of rows together: every test module of this package contributes its ``CASES``."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import tests.core.parse
from tests.core.parse.support import Row


def all_rows() -> list[Row]:
    rows: list[Row] = []
    for info in pkgutil.iter_modules(tests.core.parse.__path__):
        module = importlib.import_module(f"tests.core.parse.{info.name}")
        cases: list[Any] = getattr(module, "CASES", [])
        rows.extend(param.values[0] for param in cases)
    return rows


def test_tables_are_large() -> None:
    assert len(all_rows()) >= 120
