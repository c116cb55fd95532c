"""Conditions on touchpoints (``customers.Touchpoint``): viewed a product or a category in the
last N days without buying it in those days (the retargeting audience), visited a store.

A product view names the product (``product_code``) or one of its SKUs (``sku_code``); both
are understood. "Did not buy it" means no purchase of that product (or of anything in that
category) in the same N days.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q

from campaigns.rules.base import (
    CompileContext,
    Condition,
    Invalid,
    Param,
    ValidationContext,
    days,
    existing,
    flag,
    register,
)
from campaigns.rules.purchases import category_and_descendants, purchased_lines
from customers.models import Touchpoint
from inventory.models import Category, Location, Product, Sku

REQUIRED_DAYS = Param("required: the last N days", True)


def _recent(kind: str, context: CompileContext, window_days: int) -> Any:
    since = context.now - timedelta(days=window_days)
    return Touchpoint.objects.filter(customer=OuterRef("pk"), kind=kind, occurred_at__gte=since)


class _ViewedNotBought(Condition):
    group = "Touchpoints"
    params = {"days": REQUIRED_DAYS}

    def products(self, value: Any, context: CompileContext) -> Any:
        """The products the condition is about, as a ``Product`` queryset."""
        raise NotImplementedError

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        products = self.products(value, context)
        skus = Sku.objects.filter(product__in=products).values("code")
        viewed = _recent(Touchpoint.Kind.PRODUCT_VIEW, context, params["days"]).filter(
            Q(product_code__in=products.values("code")) | Q(sku_code__in=skus)
        )
        bought = purchased_lines(context, params).filter(
            order__customer=OuterRef("pk"), sku__product__in=products
        )
        return Q(Exists(viewed)) & ~Q(Exists(bought))


@register
class ViewedProductNotBought(_ViewedNotBought):
    field = "viewed_product_not_bought"
    label = "Viewed a product in the last N days and did not buy it in those days"
    operators = {"in": "a list of product (style) codes"}
    example = {
        "field": "viewed_product_not_bought",
        "operator": "in",
        "value": ["trail-shoe"],
        "days": 14,
    }

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        codes = existing(value, what="product codes", model=Product, column="code", context=context)
        return codes, {"days": days(params["days"])}

    def products(self, value: Any, context: CompileContext) -> Any:
        return Product.objects.filter(code__in=value)


@register
class ViewedCategoryNotBought(_ViewedNotBought):
    field = "viewed_category_not_bought"
    label = (
        "Viewed a product of a category (sub-categories included) in the last N days and "
        "bought nothing of that category in those days"
    )
    operators = {"in": "a list of category codes"}
    example = {
        "field": "viewed_category_not_bought",
        "operator": "in",
        "value": ["running"],
        "days": 30,
    }

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        codes = existing(
            value, what="category codes", model=Category, column="code", context=context
        )
        return codes, {"days": days(params["days"])}

    def products(self, value: Any, context: CompileContext) -> Any:
        return Product.objects.filter(category_id__in=category_and_descendants(value, context))


@register
class VisitedStore(Condition):
    field = "visited_store"
    label = "Visited a store in the last N days (store-visit touchpoints)"
    group = "Touchpoints"
    operators = {"in": "a list of store codes", "any": "true: any store"}
    params = {"days": REQUIRED_DAYS}
    example = {"field": "visited_store", "operator": "in", "value": ["PAR-RIV"], "days": 60}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        window = {"days": days(params["days"])}
        if operator == "any":
            if flag(value) is not True:
                raise Invalid("'any' takes the value true.")
            return True, window
        codes = existing(value, what="store codes", model=Location, column="code", context=context)
        return codes, window

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        visits = _recent(Touchpoint.Kind.STORE_VISIT, context, params["days"])
        if operator == "in":
            visits = visits.filter(store_code__in=value)
        return Q(Exists(visits))
