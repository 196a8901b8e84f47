"""Reading the bot's metrics in tests, from this process's registry or from a scrape."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from core import metrics

#: The series a metric of each type exports, by suffix (``*_created`` is turned off).
_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "info": ("_info",),
}


def sample(name: str, **labels: str) -> float:
    """One series' value in this process (0 before it has one)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def exported() -> dict[str, set[str]]:
    """Every series name the bot exports, with its label names (whether or not it has values
    yet): the names a dashboard or an alert may use."""
    names: dict[str, set[str]] = {}
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            kind = str(metric._type)
            labels = set(metric._labelnames)
            for family in metric.collect() if kind == "info" else ():
                labels |= {name for s in family.samples for name in s.labels}
            for suffix in _SUFFIXES[kind]:
                names[metric._name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return names


def scraped(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A scrape's series: (name, labels) → value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
