"""The product list, parsed into typed models, and model lookup by id, name or alias.

The product list is a tree: ``type "2"`` groups with ``children``, ``type "3"`` leaves (one per
model version). Leaves may sit at any depth. Only leaves carry credit rules and form fields, and
the same model has different attribute ids and prices in different categories, so a
:class:`Model` always belongs to one task type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import MappingProxyType
from typing import Any

from core.ima.models import KNOWN, alias_targets, name_key
from core.ima.tasks import TaskType


@dataclass(frozen=True)
class CreditRule:
    attribute_id: int
    points: int
    attributes: Mapping[str, Any]

    @property
    def is_default(self) -> bool:
        return str(self.attributes.get("default", "")).lower() == "enabled"


@dataclass(frozen=True)
class Option:
    label: str
    value: Any


@dataclass(frozen=True)
class ValueMapping:
    """How UI-only (virtual) parameters turn into a real one, e.g. quality 1080p → mode pro."""

    target_param: str
    source_params: tuple[str, ...]
    rules: tuple[tuple[Mapping[str, Any], Any], ...]


@dataclass(frozen=True)
class FormField:
    name: str
    type: str
    default: Any
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    #: UI-only fields that feed this one through ``mapping`` (``is_ui_virtual`` in the API).
    virtual_params: tuple[FormField, ...] = ()
    mapping: ValueMapping | None = None


@dataclass(frozen=True)
class Model:
    """One selectable leaf of the product list, in one category."""

    task_type: TaskType
    version_id: str
    model_id: str
    name: str
    group: str
    description: str
    credit_rules: tuple[CreditRule, ...]
    fields: tuple[FormField, ...]
    #: Estimated time from the live ``EET`` tag, in seconds (low, high).
    eet: tuple[int, int] | None = None
    features: tuple[str, ...] = ()

    @property
    def min_points(self) -> int:
        return min((r.points for r in self.credit_rules), default=0)

    @property
    def max_points(self) -> int:
        return max((r.points for r in self.credit_rules), default=0)

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    def virtual_field(self, name: str) -> tuple[FormField, FormField] | None:
        """The (real field, virtual field) pair whose virtual part is called ``name``."""
        for real in self.fields:
            for virtual in real.virtual_params:
                if virtual.name == name:
                    return real, virtual
        return None

    def options(self, name: str) -> tuple[Any, ...]:
        """Allowed values of a real or virtual field, in catalog order."""
        found = self.field(name)
        if found is None:
            pair = self.virtual_field(name)
            found = pair[1] if pair else None
        if found is None:
            return ()
        values = tuple(o.value for o in found.options)
        if found.name == "duration" and not values and found.maximum is not None:
            return (found.default,)
        return values


_EET = re.compile(r"(\d+)\s*[~\-]\s*(\d+)\s*s", re.IGNORECASE)


def _parse_eet(tags: Iterable[Mapping[str, Any]]) -> tuple[int, int] | None:
    for tag in tags:
        if tag.get("tag_type") == "EET":
            m = _EET.search(str(tag.get("tag_value", "")))
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


def _parse_field(raw: Mapping[str, Any]) -> FormField:
    config = raw.get("config") or {}
    mapping_raw = raw.get("value_mapping") or None
    mapping = None
    if raw.get("is_ui_virtual") and mapping_raw:
        mapping = ValueMapping(
            target_param=str(mapping_raw.get("target_param") or raw.get("field")),
            source_params=tuple(mapping_raw.get("source_params") or ()),
            rules=tuple(
                (MappingProxyType(dict(r.get("source_values") or {})), r.get("target_value"))
                for r in mapping_raw.get("mapping_rules") or ()
            ),
        )
    return FormField(
        name=str(raw.get("field", "")),
        type=str(raw.get("type", "")),
        default=raw.get("value"),
        options=tuple(
            Option(str(o.get("label", o.get("value"))), o.get("value"))
            for o in raw.get("options") or ()
            if isinstance(o, Mapping)
        ),
        minimum=config.get("minimum") if isinstance(config, Mapping) else None,
        maximum=config.get("maximum") if isinstance(config, Mapping) else None,
        virtual_params=tuple(_parse_field(v) for v in raw.get("ui_params") or ())
        if mapping
        else (),
        mapping=mapping,
    )


def _leaves(nodes: Iterable[Any], group: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        if str(node.get("type")) == "3":
            yield group, node
        children = node.get("children")
        if isinstance(children, list):
            yield from _leaves(children, str(node.get("name") or group))


def parse_product_list(task_type: TaskType, data: Any) -> tuple[Model, ...]:
    """Walk the product-list tree (any depth) into models; malformed leaves are skipped."""
    models: list[Model] = []
    for group, leaf in _leaves(data if isinstance(data, list) else []):
        try:
            rules = tuple(
                CreditRule(
                    attribute_id=int(r["attribute_id"]),
                    points=int(r["points"]),
                    attributes=MappingProxyType(dict(r.get("attributes") or {})),
                )
                for r in leaf.get("credit_rules") or ()
            )
            model = Model(
                task_type=task_type,
                version_id=str(leaf["id"]),
                model_id=str(leaf.get("model_id") or leaf["id"]),
                name=str(leaf.get("name") or leaf["id"]),
                group=group,
                description=str(leaf.get("description") or ""),
                credit_rules=rules,
                fields=tuple(_parse_field(f) for f in leaf.get("form_config") or ()),
                eet=_parse_eet(leaf.get("tags") or ()),
                features=tuple(
                    str(t.get("tag_value"))
                    for t in leaf.get("tags") or ()
                    if t.get("tag_type") == "feature"
                ),
            )
        except (KeyError, TypeError, ValueError):
            continue
        # A leaf without rules can never be created (attribute_id 0 is refused): never offer it.
        if model.credit_rules:
            models.append(model)
    return tuple(models)


@dataclass(frozen=True)
class Catalog:
    """All models of one category, in the product list's order."""

    task_type: TaskType
    models: tuple[Model, ...]
    _by_key: Mapping[str, Model] = dataclass_field(init=False, repr=False, compare=False)
    _names: tuple[str, ...] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Model] = {}
        for model in self.models:
            for key in (model.version_id, model.model_id, model.name):
                index.setdefault(name_key(key), model)
            index.setdefault(name_key(_squash_name(model.name)), model)
        object.__setattr__(self, "_by_key", MappingProxyType(index))
        object.__setattr__(self, "_names", _surface_names(self.models))

    def find(self, query: str) -> Model | None:
        """Model by version id, model_id, display name or a common alias; None if not offered."""
        key = name_key(query)
        if not key:
            return None
        if key in self._by_key:
            return self._by_key[key]
        for row in alias_targets(query):
            found = next((m for m in self.models if row.matches(name_key(m.name))), None)
            if found is not None:
                return found
        if len(key) < 3:
            return None
        # "Pixverse" or "Vidu" (several versions): the first model whose name starts so.
        return next((m for m in self.models if name_key(m.name).startswith(key)), None)

    def by_version(self, version_id: str) -> Model | None:
        return next((m for m in self.models if m.version_id == version_id), None)

    def resolve(self, version_id: str, model_id: str) -> Model | None:
        """A model remembered by its version (a preference, an earlier job): that version if it
        is still offered, else the current version of the same model (IMA bumps versions)."""
        found = self.by_version(version_id)
        if found is None and model_id:
            found = next((m for m in self.models if m.model_id == model_id), None)
        return found

    def surface_names(self) -> Sequence[str]:
        """Every name a user may type for a model of this category (for the message parser)."""
        return self._names


def _surface_names(models: Sequence[Model]) -> tuple[str, ...]:
    names = {m.name for m in models} | {m.model_id for m in models}
    names |= {_squash_name(m.name) for m in models}
    keys = {name_key(n) for n in names}
    present = {name_key(m.name) for m in models}
    names |= {
        alias
        for row in KNOWN
        if any(row.matches(k) for k in present)
        for alias in row.aliases
        if name_key(alias) not in keys
    }
    return tuple(sorted(names, key=len, reverse=True))


def _squash_name(name: str) -> str:
    """Drop the dash of names like "DouBao - BGM": people type "DouBao BGM"."""
    return re.sub(r"\s*-\s*", " ", name).strip()
