"""Segment rules: a tree of AND/OR/NOT groups of conditions from a registry of condition
types, checked when saved and compiled into one SQL query over customers.

    q = compile_rules(segment.rules, now=timezone.now())
    Customer.objects.filter(erased_at=None).filter(q)      # the segment, one query

``describe_conditions`` lists the types (for the admin's help); ``validate_rules`` checks a
tree and names the path of each problem.
"""

# Each module registers its condition types when imported.
from campaigns.rules import (  # noqa: F401
    consent,
    loyalty,
    membership,
    profile,
    purchases,
    scores,
    touchpoints,
    value,
)
from campaigns.rules.base import CONDITIONS, CompileContext, Condition, ValidationContext
from campaigns.rules.tree import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_EXPANDED_CONDITIONS,
    MAX_SEGMENT_NESTING,
    RuleError,
    compile_rules,
    conditions_of,
    count_conditions,
    referenced_segments,
    segments_referring_to,
    validate_rules,
    validate_segment_rules,
)

GROUP_ORDER = [
    "Profile",
    "Location",
    "Purchase history",
    "Touchpoints",
    "Loyalty",
    "RFM scores",
    "Customer value",
    "Consent",
    "Segments",
]


def describe_conditions() -> list[tuple[str, list[Condition]]]:
    """The condition types by group, in the order marketers look for them."""
    return [(group, [c for c in CONDITIONS.values() if c.group == group]) for group in GROUP_ORDER]


__all__ = [
    "CONDITIONS",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_EXPANDED_CONDITIONS",
    "MAX_SEGMENT_NESTING",
    "CompileContext",
    "Condition",
    "RuleError",
    "ValidationContext",
    "compile_rules",
    "conditions_of",
    "count_conditions",
    "describe_conditions",
    "referenced_segments",
    "segments_referring_to",
    "validate_rules",
    "validate_segment_rules",
]
