"""Choosing the credit rule (attribute_id) and building the inner parameters of a create.

The server recomputes the rule from the parameters it receives and refuses a create whose
attribute_id or credit disagree (6006 / 6009 / 6010). So the client must select the rule exactly
as the server's products do and then write the rule's own spelling of each value back into the
parameters (``1080p`` → ``1080P``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.ima.catalog import CreditRule, Model


def normalise(value: Any) -> str:
    """Comparison form of a parameter value: booleans spelled out, the rest upper-cased."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().upper()


def resolve_virtual(model: Model, params: Mapping[str, Any]) -> dict[str, Any]:
    """Map UI-only parameters onto the real ones they stand for and drop them.

    ``quality: 1080p`` becomes ``mode: pro`` for Kling; ``aspect_ratio: 16:9`` becomes
    ``size: 2560x1440`` for SeeDream 4.5. A virtual value with no mapping is dropped, and the real
    parameter keeps its default.
    """
    out = dict(params)
    for real in model.fields:
        mapping = real.mapping
        if mapping is None:
            continue
        given = {name: out[name] for name in mapping.source_params if name in out}
        if given:
            for sources, target in mapping.rules:
                if all(
                    name in given and normalise(given[name]) == normalise(value)
                    for name, value in sources.items()
                ):
                    out[mapping.target_param] = target
                    break
            else:
                # The virtual field shares its name with the real one (Seedance 2.0's aspect
                # ratio) and the value is no UI value: keep it only if it is a real option.
                target = mapping.target_param
                if target in given and canonical_option(model, target, given[target]) is None:
                    out.pop(target)
        for name in mapping.source_params:
            if name != mapping.target_param:
                out.pop(name, None)
    return out


def canonical_option(model: Model, name: str, value: Any) -> Any | None:
    """The catalog's own spelling of ``value`` for field ``name`` (``1k`` → ``1K``), if offered."""
    field = model.field(name)
    if field is None:
        return None
    wanted = normalise(value)
    return next((o.value for o in field.options if normalise(o.value) == wanted), None)


def form_defaults(model: Model) -> dict[str, Any]:
    """Default of every real field; a field fed by a virtual one takes the virtual default mapped.

    This is what the IMA web form submits untouched: Kling O1's ``quality 720p`` → ``mode std``,
    Seedance 2.0's ``aspect_ratio 1:1``.
    """
    defaults = {f.name: f.default for f in model.fields}
    virtual = {v.name: v.default for f in model.fields for v in f.virtual_params}
    return {**defaults, **resolve_virtual(model, virtual)}


def _rule_items(rule: CreditRule) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in rule.attributes.items() if k != "default"]


def select_rule(model: Model, params: Mapping[str, Any]) -> CreditRule:
    """Exact match → most matching attributes (earliest wins) → default rule → first rule.

    ``params`` are the complete real parameters (:func:`quote` merges the form defaults in).
    """
    if not model.credit_rules:
        raise ValueError(f"model {model.version_id} has no credit rules")
    keys = {k for rule in model.credit_rules for k, _ in _rule_items(rule)}
    wanted = {k: normalise(params[k]) for k in keys if k in params}

    def matches(rule: CreditRule) -> int:
        return sum(1 for k, v in _rule_items(rule) if wanted.get(k) == normalise(v))

    for rule in model.credit_rules:
        if matches(rule) == len(_rule_items(rule)):
            return rule
    best = max(model.credit_rules, key=matches)  # max() keeps the earliest on ties
    if matches(best) > 0:
        return best
    return next((r for r in model.credit_rules if r.is_default), model.credit_rules[0])


@dataclass(frozen=True)
class Quote:
    """What a create with these parameters will be: its rule, inner parameters and price."""

    model: Model
    rule: CreditRule
    params: Mapping[str, Any]
    n: int

    @property
    def credits(self) -> int:
        return self.rule.points * self.n


def quote(model: Model, user_params: Mapping[str, Any], n: int = 1) -> Quote:
    """Form defaults + the user's parameters (canonical spelling) + the chosen rule's values."""
    resolved = resolve_virtual(model, user_params)
    for name, value in list(resolved.items()):
        canonical = canonical_option(model, name, value)
        if canonical is not None:
            resolved[name] = canonical
    params = {**form_defaults(model), **resolved}
    rule = select_rule(model, params)
    params.update(_rule_items(rule))
    params = {k: v for k, v in params.items() if v is not None and k != "default"}
    return Quote(model=model, rule=rule, params=params, n=n)
