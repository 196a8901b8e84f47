"""The compose file's PostgreSQL service: opt-in, with a volume and a health check."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_postgres_is_an_opt_in_service_with_a_volume_and_a_healthcheck() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    service = compose["services"]["postgres"]
    assert service["profiles"] == ["postgres"]
    assert "postgres-data:/var/lib/postgresql/data" in service["volumes"]
    assert "postgres-data" in compose["volumes"]
    assert "pg_isready" in " ".join(service["healthcheck"]["test"])
    assert "ports" not in service  # reachable by the bots only
    assert "${POSTGRES_PASSWORD:?" in service["environment"]["POSTGRES_PASSWORD"]
