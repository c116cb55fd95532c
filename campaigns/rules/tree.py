"""The rule tree of a segment: groups and conditions, checked and compiled to one ``Q``.

A node is a group or a condition::

    {"and": [node, ...]}   every node holds
    {"or": [node, ...]}    at least one holds
    {"not": node}          the node does not hold
    {"field": "spend", "operator": "gte", "value": 200, "days": 365}

Conditions come from the registry (``base.CONDITIONS``); each names its operators and any
extra keys (``days``, ``store``, ``purpose``). Every problem is reported with the node's path
(``rules.and[1].or[0] (bought_category): unknown category codes: runing.``), all at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from campaigns.rules.base import (
    CONDITIONS,
    CompileContext,
    Invalid,
    ValidationContext,
)
from omni.core.errors import InvalidInput

if TYPE_CHECKING:
    from campaigns.models import Segment

MAX_DEPTH = 6  # groups inside groups
MAX_CONDITIONS = 60  # conditions in one segment's own rules
MAX_EXPANDED_CONDITIONS = 300  # with the rules of the segments it refers to, all the way down
MAX_SEGMENT_NESTING = 4  # a segment in a segment in a segment in a segment
GROUPS = ("and", "or")
CONDITION_KEYS = ("field", "operator", "value")
EXAMPLE = '{"and": [{"field": "recency_days", "operator": "lte", "value": 30}]}'


class RuleError(InvalidInput):
    """The rules cannot be used; ``messages`` name the path of each problem."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(
            "The segment's rules are not valid: " + " ".join(messages[:3]),
            details={"rules": messages},
        )


class _Walk:
    def __init__(self, context: ValidationContext):
        self.context = context
        self.errors: list[str] = []
        self.conditions = 0


def validate_rules(rules: Any, *, context: ValidationContext | None = None) -> dict[str, Any]:
    """The rules with every value cleaned (as the compiler wants them); ``RuleError`` listing
    every problem otherwise. Reads the database to check codes and names exist."""
    if not rules:
        raise RuleError([f"rules: a dynamic segment needs at least one condition, e.g. {EXAMPLE}."])
    walk = _Walk(context or ValidationContext())
    cleaned = _clean_node(rules, "rules", 1, walk)
    if walk.conditions > MAX_CONDITIONS:
        walk.errors.append(
            f"rules: at most {MAX_CONDITIONS} conditions in one segment, not {walk.conditions}."
        )
    if walk.errors:
        raise RuleError(walk.errors)
    return cleaned


def _clean_node(node: Any, path: str, depth: int, walk: _Walk) -> dict[str, Any]:
    if not isinstance(node, dict):
        walk.errors.append(
            f'{path}: expected a group ({{"and": [...]}}, {{"or": [...]}}, '
            f'{{"not": {{...}}}}) or a condition ({{"field": ...}}), not {node!r}.'
        )
        return {}
    groups = [key for key in (*GROUPS, "not") if key in node]
    if groups:
        if len(node) != 1:
            walk.errors.append(
                f"{path}: a group has exactly one key (and, or or not), not "
                f"{', '.join(sorted(node))}."
            )
            return {}
        if depth > MAX_DEPTH:
            walk.errors.append(f"{path}: groups nest at most {MAX_DEPTH} deep.")
            return {}
        (key,) = groups
        if key == "not":
            return {"not": _clean_node(node["not"], f"{path}.not", depth + 1, walk)}
        children = node[key]
        if not isinstance(children, list) or not children:
            walk.errors.append(f"{path}.{key}: expected a non-empty list of conditions or groups.")
            return {}
        return {
            key: [
                _clean_node(child, f"{path}.{key}[{i}]", depth + 1, walk)
                for i, child in enumerate(children)
            ]
        }
    if "field" in node:
        walk.conditions += 1
        return _clean_condition(node, path, walk)
    walk.errors.append(
        f"{path}: expected a group (and, or, not) or a condition with a field, not "
        f"keys {', '.join(sorted(map(str, node))) or 'none'}."
    )
    return {}


def _clean_condition(node: dict[str, Any], path: str, walk: _Walk) -> dict[str, Any]:
    field = node.get("field")
    condition = CONDITIONS.get(field) if isinstance(field, str) else None
    if condition is None:
        close = difflib.get_close_matches(str(field), CONDITIONS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else " See the list of fields."
        walk.errors.append(f"{path}: unknown field {field!r}.{hint}")
        return {}
    where = f"{path} ({field})"
    allowed = (*CONDITION_KEYS, *condition.params)
    unknown = sorted(set(map(str, node)) - set(allowed))
    if unknown:
        walk.errors.append(
            f"{where}: unknown key {', '.join(unknown)}; this condition takes {', '.join(allowed)}."
        )
        return {}
    operator = node.get("operator")
    if operator not in condition.operators:
        walk.errors.append(
            f"{where}: unknown operator {operator!r}; {field} takes "
            f"{', '.join(condition.operators)}."
        )
        return {}
    missing = [
        name
        for name in ("value", *(n for n, p in condition.params.items() if p.required))
        if node.get(name) is None
    ]
    if missing:
        walk.errors.append(f"{where}: needs {' and '.join(missing)}.")
        return {}
    params = {name: node[name] for name in condition.params if node.get(name) is not None}
    try:
        value, params = condition.clean(operator, node["value"], params, walk.context)
    except Invalid as invalid:
        walk.errors.append(f"{where}: {invalid.message}")
        return {}
    return {"field": field, "operator": operator, "value": value, **params}


def compile_rules(rules: Any, *, now: datetime, context: CompileContext | None = None) -> Q:
    """The rules as one ``Q`` over customers, valid at ``now`` (windows end there). Checks
    them first: rules stored long ago may name a category deleted since."""
    cleaned = validate_rules(rules)
    return _compile_node(cleaned, context or CompileContext(now=now))


def _compile_node(node: dict[str, Any], context: CompileContext) -> Q:
    if "not" in node:
        return ~_compile_node(node["not"], context)
    if "and" in node or "or" in node:
        key = "and" if "and" in node else "or"
        combined = Q()
        for child in node[key]:
            part = _compile_node(child, context)
            combined = combined & part if key == "and" else combined | part
        return combined
    condition = CONDITIONS[node["field"]]
    params = {name: node[name] for name in condition.params if name in node}
    return condition.compile(node["operator"], node["value"], params, context)


# --- Reading a tree without checking it -----------------------------------------------------


def conditions_of(rules: Any) -> Iterator[dict[str, Any]]:
    """Every condition of a tree, whatever else is wrong with it."""
    if not isinstance(rules, dict):
        return
    if "field" in rules:
        yield rules
        return
    for key in GROUPS:
        children = rules.get(key)
        if isinstance(children, list):
            for child in children:
                yield from conditions_of(child)
    if "not" in rules:
        yield from conditions_of(rules["not"])


def count_conditions(rules: Any) -> int:
    return sum(1 for _ in conditions_of(rules))


def referenced_segments(rules: Any) -> set[str]:
    """Names of the segments a tree's membership conditions name."""
    names: set[str] = set()
    for condition in conditions_of(rules):
        if condition.get("field") == "in_segment":
            value = condition.get("value")
            for name in [value] if isinstance(value, str) else value or []:
                if isinstance(name, str):
                    names.add(name.strip())
    return names


# --- Segments inside segments ---------------------------------------------------------------


def validate_segment_rules(rules: Any, *, segment: Segment) -> dict[str, Any]:
    """``validate_rules``, then the segments it names: no circle back to ``segment``, at most
    ``MAX_SEGMENT_NESTING`` deep and ``MAX_EXPANDED_CONDITIONS`` conditions in all."""
    cleaned = validate_rules(rules, context=ValidationContext(segment=segment))
    total = _expanded_size(rules, (segment.name,), segment, {})
    if total > MAX_EXPANDED_CONDITIONS:
        raise RuleError(
            [
                f"rules: with the segments it refers to, this segment has {total} conditions; "
                f"at most {MAX_EXPANDED_CONDITIONS}."
            ]
        )
    return cleaned


def _expanded_size(
    rules: Any, chain: tuple[str, ...], segment: Segment, loaded: dict[str, Segment]
) -> int:
    from campaigns.models import Segment

    names = referenced_segments(rules) - loaded.keys()
    loaded.update({s.name: s for s in Segment.objects.filter(name__in=names)})
    total = count_conditions(rules)
    for name in sorted(referenced_segments(rules)):
        other = loaded.get(name)
        if other is None:
            continue  # reported by the condition itself
        if (segment.pk is not None and other.pk == segment.pk) or name in chain:
            raise RuleError(
                [f"rules: segments go round in a circle: {' → '.join((*chain, name))}."]
            )
        if len(chain) > MAX_SEGMENT_NESTING:
            raise RuleError(
                [
                    f"rules: segments nest at most {MAX_SEGMENT_NESTING} deep: "
                    f"{' → '.join((*chain, name))}."
                ]
            )
        if other.is_dynamic:
            total += _expanded_size(other.rules, (*chain, name), segment, loaded)
    return total


def segments_referring_to(name: str, *, excluding: int | None = None) -> list[str]:
    """Names of the dynamic segments whose rules name the segment ``name``."""
    from campaigns.models import Segment

    others = Segment.objects.filter(kind=Segment.Kind.DYNAMIC)
    if excluding is not None:
        others = others.exclude(pk=excluding)
    return sorted(
        s.name for s in others.only("name", "rules") if name in referenced_segments(s.rules)
    )
