"""Shared fixtures: catalogs from the product-list snapshots the simulator also serves."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from core.ima.catalog import Catalog, parse_product_list
from core.ima.tasks import TaskType

#: The throwaway PostgreSQL server's fixtures (postgres_server, postgres_url).
pytest_plugins = ["tests.postgres"]

FIXTURES = Path(__file__).resolve().parent.parent / "sim" / "fixtures"


@cache
def fixture_catalog(task_type: TaskType) -> Catalog:
    raw = json.loads((FIXTURES / f"product_list.{task_type.value}.json").read_text("utf-8"))
    return Catalog(task_type, parse_product_list(task_type, raw["data"]))
