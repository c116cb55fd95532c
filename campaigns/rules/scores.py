"""Conditions on RFM scores (``CustomerRfm``, refreshed by ``services.refresh_rfm_scores``):
each score 1 to 5 (5 is best), or the named cell of the recency x frequency grid. Customers
who never bought have no scores and match none of these."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from campaigns.models import CustomerRfm
from campaigns.rules.base import (
    CompileContext,
    Condition,
    Invalid,
    ValidationContext,
    choices,
    compare,
    numeric_value,
    register,
    whole_number,
)


def _score(value: Any) -> int:
    return whole_number(value, what="a score from 1 to 5", minimum=1, maximum=5)


class _Score(Condition):
    group = "RFM scores"
    operators = {
        "gte": "a score 1-5",
        "lte": "a score 1-5",
        "eq": "a score 1-5",
        "between": "[low, high]",
        "in": "a list of scores",
    }
    column: str

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        if operator == "in":
            if not isinstance(value, list) or not value:
                raise Invalid(f"'in' needs a list of scores from 1 to 5, not {value!r}.")
            return sorted({_score(v) for v in value}), params
        return numeric_value(operator, value, _score), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        scores = CustomerRfm.objects.filter(customer=OuterRef("pk")).filter(
            compare(self.column, operator, value)
        )
        return Q(Exists(scores))


@register
class RecencyScore(_Score):
    field = "r_score"
    label = "RFM recency score (5: bought most recently)"
    column = "r_score"
    example = {"field": "r_score", "operator": "gte", "value": 4}


@register
class FrequencyScore(_Score):
    field = "f_score"
    label = "RFM frequency score (5: most orders in the RFM window)"
    column = "f_score"
    example = {"field": "f_score", "operator": "gte", "value": 4}


@register
class MonetaryScore(_Score):
    field = "m_score"
    label = "RFM monetary score (5: spent most in the RFM window)"
    column = "m_score"
    example = {"field": "m_score", "operator": "eq", "value": 5}


@register
class RfmSegment(Condition):
    field = "rfm_segment"
    label = "RFM cell (" + ", ".join(CustomerRfm.Cell.values) + ")"
    group = "RFM scores"
    operators = {"in": "a list of cells", "not_in": "a list of cells: scored, in another cell"}
    example = {"field": "rfm_segment", "operator": "in", "value": ["champions", "loyal"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        return choices(value, CustomerRfm.Cell.values, what="RFM cells"), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        scores = CustomerRfm.objects.filter(customer=OuterRef("pk"))
        in_cells = Q(cell__in=value)
        return Q(Exists(scores.filter(in_cells if operator == "in" else ~in_cells)))
