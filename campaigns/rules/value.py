"""Conditions on customer lifetime value (``CustomerValue``, rewritten by
``reporting.clv.compute_customer_values``): the predicted CLV, the probability of being still
active, the purchases expected in 90 days, and the channel mix (online only, store only,
omnichannel). Customers who never bought have no value and match none of these."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q

from campaigns.models import CustomerValue
from campaigns.rules.base import (
    CompileContext,
    Condition,
    Invalid,
    ValidationContext,
    amount,
    choices,
    compare,
    numeric_value,
    register,
)

GROUP = "Customer value"
NUMERIC = {"gte": "at least", "lte": "at most", "between": "[low, high]"}


def _share(value: Any) -> float:
    """A probability from 0 to 1 (0.5, not 50)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise Invalid(f"the value must be a probability from 0 to 1 such as 0.5, not {value!r}.")
    return float(value)


def _count(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1000:
        raise Invalid(f"the value must be a number of purchases such as 1.5, not {value!r}.")
    return float(value)


def _valued(column: str, operator: str, value: Any) -> Q:
    return Q(
        Exists(
            CustomerValue.objects.filter(customer=OuterRef("pk")).filter(
                compare(column, operator, value)
            )
        )
    )


@register
class PredictedClv(Condition):
    field = "predicted_clv"
    label = "Predicted lifetime value (discounted revenue over the CLV horizon)"
    group = GROUP
    operators = {k: f"{v} this amount" if k != "between" else v for k, v in NUMERIC.items()}
    example = {"field": "predicted_clv", "operator": "gte", "value": 500}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        cleaned = numeric_value(operator, value, amount)
        return ([str(v) for v in cleaned] if operator == "between" else str(cleaned)), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        limit = [Decimal(v) for v in value] if operator == "between" else Decimal(value)
        return _valued("predicted_clv", operator, limit)


class _ValueFigure(Condition):
    """A number of ``CustomerValue`` compared as written (its column is the condition's
    ``field``), checked by ``parse``."""

    group = GROUP

    @staticmethod
    def parse(value: Any) -> float:
        raise NotImplementedError

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        return numeric_value(operator, value, self.parse), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        return _valued(self.field, operator, value)


@register
class ProbabilityAlive(_ValueFigure):
    field = "p_alive"
    label = "Probability of being still an active customer (0 to 1, BG/NBD)"
    operators = {k: f"{v} this probability" if k != "between" else v for k, v in NUMERIC.items()}
    example = {"field": "p_alive", "operator": "lte", "value": 0.3}
    parse = staticmethod(_share)


@register
class ExpectedPurchases(_ValueFigure):
    field = "expected_purchases_90d"
    label = "Purchases expected in the next 90 days (BG/NBD)"
    operators = {k: f"{v} this number" if k != "between" else v for k, v in NUMERIC.items()}
    example = {"field": "expected_purchases_90d", "operator": "gte", "value": 1}
    parse = staticmethod(_count)


@register
class ChannelMix(Condition):
    field = "channel_mix"
    label = "Where they bought to date (" + ", ".join(CustomerValue.ChannelMix.values) + ")"
    group = GROUP
    operators = {"in": "a list of mixes"}
    example = {"field": "channel_mix", "operator": "in", "value": ["omnichannel"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        return choices(value, CustomerValue.ChannelMix.values, what="channel mixes"), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        return _valued("channel_mix", "in", value)
