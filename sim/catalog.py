"""The product catalog the simulator serves: the recorded fixtures, optionally perturbed.

Perturbation mimics a server whose catalog values differ from the snapshot in the spec and the
fixtures (prices and rule ids change in production), so a client that hard-codes them fails.
"""

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

_FIXTURE_NAME = re.compile(r"^product_list\.(?P<category>\w+)\.json$")
_EET = re.compile(r"(\d+(?:\.\d+)?)\s*~\s*(\d+(?:\.\d+)?)\s*s")


def normalise(value: Any) -> str:
    """The server's comparison form of a parameter value: 5 == "5", "1k" == "1K", True == "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().upper()


@dataclass(frozen=True)
class Rule:
    """One credit rule: the price of one parameter combination."""

    attribute_id: int
    points: int
    attributes: Mapping[str, Any]

    def matches(self, params: Mapping[str, Any]) -> bool:
        """True if every attribute (except the ``default`` marker) equals the given parameter."""
        return all(
            key in params and normalise(params[key]) == normalise(value)
            for key, value in self.attributes.items()
            if key != "default"
        )


@dataclass(frozen=True)
class Leaf:
    """A selectable model version (a ``type: "3"`` node) in one category."""

    category: str
    id: str
    model_id: str
    name: str
    rules: tuple[Rule, ...]
    eet: tuple[float, float] | None
    """Estimated generation time in seconds from the leaf's ``EET`` tag, if it has one."""

    def rule(self, attribute_id: int) -> Rule | None:
        return next((r for r in self.rules if r.attribute_id == attribute_id), None)


class Catalog:
    """All categories of the fixtures, with ``attribute_id`` and ``points`` shifted by offsets."""

    def __init__(
        self,
        attribute_id_offset: int = 0,
        points_offset: int = 0,
        product_lists: Mapping[str, Any] | None = None,
    ) -> None:
        """``product_lists``: replies per category to serve instead of the fixtures."""
        self._bodies: dict[str, bytes] = {}
        self._leaves: dict[tuple[str, str, str], Leaf] = {}
        payloads = (
            [(c, copy.deepcopy(p)) for c, p in product_lists.items()]
            if product_lists is not None
            else list(_load_fixtures())
        )
        for category, payload in payloads:
            for node in _walk_leaves(payload["data"]):
                for rule in node["credit_rules"]:
                    rule["attribute_id"] += attribute_id_offset
                    rule["points"] += points_offset
                    if rule["attribute_id"] <= 0 or rule["points"] <= 0:
                        raise ValueError("catalog offsets must keep attribute ids and points > 0")
                leaf = _to_leaf(category, node)
                self._leaves[(category, leaf.model_id, leaf.id)] = leaf
            self._bodies[category] = json.dumps(payload, ensure_ascii=False).encode()

    def response_body(self, category: str) -> bytes | None:
        """The serialised product-list reply for a category, or None for an unknown category."""
        return self._bodies.get(category)

    def find_leaf(self, category: str, model_id: str, model_version: str) -> Leaf | None:
        return self._leaves.get((category, model_id, model_version))


def _load_fixtures() -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in sorted(resources.files("sim").joinpath("fixtures").iterdir(), key=str):
        match = _FIXTURE_NAME.match(entry.name)
        if match:
            yield match["category"], json.loads(entry.read_text(encoding="utf-8"))


def _walk_leaves(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Leaves can sit at any depth of the tree."""
    for node in nodes:
        if node.get("type") == "3":
            yield node
        yield from _walk_leaves(node.get("children") or [])


def _to_leaf(category: str, node: dict[str, Any]) -> Leaf:
    eet = None
    for tag in node.get("tags") or []:
        match = _EET.search(str(tag.get("tag_value", ""))) if tag.get("tag_type") == "EET" else None
        if match:
            eet = (float(match[1]), float(match[2]))
    return Leaf(
        category=category,
        id=node["id"],
        model_id=node["model_id"],
        name=node["name"],
        rules=tuple(
            Rule(r["attribute_id"], r["points"], dict(r["attributes"]))
            for r in node["credit_rules"]
        ),
        eet=eet,
    )
