"""The dashboard, the alert rules and Prometheus' configuration in ``monitoring/``: valid, and
built only on metrics the bot exports, with labels they have."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.samples import exported

MONITORING = Path(__file__).parents[2] / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "ima-bot.json"
RULES = MONITORING / "alerts.yml"
PROMETHEUS = MONITORING / "prometheus.yml"

#: A selector of one of the bot's series, with its label matchers if any.
_SELECTOR = re.compile(r"\b(ima_bot_\w+)(?:\s*\{([^}]*)\})?")
_MATCHER = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
#: Labels an aggregation groups by: ``by (a, b)``.
_BY = re.compile(r"\bby\s*\(([^)]*)\)")


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def problems(expression: str, names: dict[str, set[str]]) -> list[str]:
    """What in ``expression`` names a series or label the bot doesn't export."""
    found = []
    used: set[str] = set()
    for name, matchers in _SELECTOR.findall(expression):
        if name not in names:
            found.append(f"{name} is not exported")
            continue
        used |= names[name]
        for label in _MATCHER.findall(matchers):
            if label not in names[name]:
                found.append(f"{name} has no label {label}")
    for grouping in _BY.findall(expression):
        for label in (part.strip() for part in grouping.split(",")):
            if label and label not in used:
                found.append(f"none of its series has the label {label} it groups by")
    return found


@pytest.mark.parametrize(
    "expression", [*dashboard_queries(), *rule_expressions()], ids=lambda e: e[:60]
)
def test_every_query_uses_what_the_bot_exports(expression: str) -> None:
    assert problems(expression, exported()) == []


def test_the_check_itself_catches_mistakes() -> None:
    names = exported()
    assert problems("rate(ima_bot_jobs_created_total[5m])", names) == [
        "ima_bot_jobs_created_total is not exported"
    ]
    assert problems('ima_bot_jobs_total{result="failed"}', names) == [
        "ima_bot_jobs_total has no label result"
    ]
    assert problems("sum by (platform) (ima_bot_jobs_total)", names) == [
        "none of its series has the label platform it groups by"
    ]


def test_the_dashboard_and_the_alerts_cover_the_bot() -> None:
    used = " ".join([*dashboard_queries(), *rule_expressions()])
    shown = {m.group(1) for m in _SELECTOR.finditer(used)}
    # Histograms are shown through their buckets; every other metric by its own name.
    missing = {
        name for name in exported() if not name.endswith(("_sum", "_count")) and name not in shown
    }
    assert missing == set()
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"]
              for rule in group["rules"]}  # fmt: skip
    for wanted in ("JobsFailing", "OldestJobTooOld", "IMAErrors", "CreditsNearCap", "AdapterDown"):
        assert f"IMABot{wanted}" in alerts


def test_the_dashboard_reads_the_provisioned_prometheus() -> None:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    sources = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"]
    uids = {source["uid"] for source in sources}
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] in uids, panel["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_prometheus_scrapes_the_port_compose_gives_metrics() -> None:
    compose = yaml.safe_load((MONITORING.parent / "docker-compose.yml").read_text())
    environment = compose["services"]["bot"]["environment"]
    targets = [
        target
        for job in yaml.safe_load(PROMETHEUS.read_text())["scrape_configs"]
        for config in job["static_configs"]
        for target in config["targets"]
    ]
    assert targets == [f"bot:{environment['METRICS_PORT']}"]
    assert environment["METRICS_HOST"] == "0.0.0.0"  # noqa: S104 - the compose network only


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (.ci/run installs it)")
@pytest.mark.parametrize(("what", "path"), [("rules", RULES), ("config", PROMETHEUS)])
def test_promtool_accepts(what: str, path: Path) -> None:
    assert PROMTOOL is not None
    checked = subprocess.run(  # noqa: S603 - a fixed tool on fixed files
        [PROMTOOL, "check", what, str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
