"""Conditions on the loyalty programme: membership, tier, available points, points about to
expire. Read through ``Customer.loyalty_account`` (see ``relations``); only members match a
tier or points condition."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, Sum

from campaigns.rules import relations
from campaigns.rules.base import (
    CompileContext,
    Condition,
    Invalid,
    Param,
    ValidationContext,
    compare,
    days,
    existing,
    flag,
    numeric_value,
    register,
    whole_number,
)


def _accounts() -> Any:
    return relations.loyalty_account_model()._default_manager.filter(customer=OuterRef("pk"))


@register
class LoyaltyMember(Condition):
    field = "loyalty_member"
    label = "Member of the loyalty programme"
    group = "Loyalty"
    operators = {"is": "true or false"}
    example = {"field": "loyalty_member", "operator": "is", "value": True}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        return flag(value), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        member = Q(Exists(_accounts()))
        return member if value else ~member


@register
class LoyaltyTier(Condition):
    field = "loyalty_tier"
    label = "Loyalty tier (its name)"
    group = "Loyalty"
    operators = {"in": "a list of tier names", "not_in": "a list of tier names: members in another"}
    example = {"field": "loyalty_tier", "operator": "in", "value": ["Gold"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        names = existing(
            value, what="tier names", model=relations.tier_model(), column="name", context=context
        )
        return names, params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        in_tiers = Q(tier__name__in=value)
        return Q(Exists(_accounts().filter(in_tiers if operator == "in" else ~in_tiers)))


@register
class PointsBalance(Condition):
    field = "points_balance"
    label = "Points available to spend now (pending points not included)"
    group = "Loyalty"
    operators = {"gte": "points", "lte": "points", "between": "[low, high] points"}
    example = {"field": "points_balance", "operator": "gte", "value": 500}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        def points(v: Any) -> int:
            return whole_number(v, what="a number of points", maximum=10**9)

        return numeric_value(operator, value, points), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        return Q(Exists(_accounts().filter(compare("available", operator, value))))


@register
class PointsExpiring(Condition):
    field = "points_expiring"
    label = "Points that expire within the next N days"
    group = "Loyalty"
    operators = {"gte": "points: at least this many expire (1 for any)"}
    params = {"days": Param("required: within the next N days", True)}
    example = {"field": "points_expiring", "operator": "gte", "value": 100, "days": 30}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        points = whole_number(value, what="a number of points", maximum=10**9)
        if points < 1:
            raise Invalid("the value must be at least 1 point.")
        return points, {"days": days(params["days"])}

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        until = context.now + timedelta(days=params["days"])
        expiring = (
            relations.points_lot_model()
            ._default_manager.filter(
                is_pending=False,
                remaining__gt=0,
                expires_at__gt=context.now,
                expires_at__lte=until,
            )
            .values("account__customer_id")
            .annotate(expiring=Sum("remaining"))
            .filter(expiring__gte=value)
        )
        return Q(pk__in=expiring.values("account__customer_id"))
