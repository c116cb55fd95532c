"""Membership of another segment. A dynamic segment named in a rule is compiled into the
query (its members as of now, not as of its last refresh); a static one is read from its
uploaded members. Circles are refused when a segment is saved, and again when compiling."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db.models import Exists, OuterRef, Q

from campaigns.models import Segment, SegmentMembership
from campaigns.rules.base import (
    CompileContext,
    Condition,
    Invalid,
    ValidationContext,
    existing,
    register,
)
from campaigns.rules.tree import RuleError, compile_rules


@register
class InSegment(Condition):
    field = "in_segment"
    label = "Member of other segments (by name)"
    group = "Segments"
    operators = {"in": "a list of segment names: in any of them", "not_in": "in none of them"}
    example = {"field": "in_segment", "operator": "not_in", "value": ["Bought running shoes"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        names = existing(value, what="segments", model=Segment, column="name", context=context)
        if context.segment is not None and context.segment.name in names:
            raise Invalid("a segment cannot contain itself.")
        return names, params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        members = Q()
        for segment in Segment.objects.filter(name__in=value).order_by("name"):
            if segment.pk in context.segments_in_progress:
                raise RuleError([f"rules: segments go round in a circle at {segment.name!r}."])
            if segment.is_dynamic:
                inner = replace(
                    context, segments_in_progress=(*context.segments_in_progress, segment.pk)
                )
                try:
                    members |= compile_rules(segment.rules, now=context.now, context=inner)
                except RuleError as error:
                    raise RuleError(
                        [f"in segment {segment.name!r}: {m}" for m in error.messages]
                    ) from None
            else:
                uploaded = SegmentMembership.objects.filter(
                    customer=OuterRef("pk"), segment=segment
                )
                members |= Q(Exists(uploaded))
        return members if operator == "in" else ~members
