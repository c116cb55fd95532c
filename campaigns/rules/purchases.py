"""Conditions on purchase history: recency, frequency and spend over a window, what was bought
(category with its sub-categories, SKU, brand), where (channel), how (pick-up, delivery, in
store), and returns.

A purchase is an order in any status but cancelled or expired (``relations.NOT_PURCHASES``).
An optional ``days`` limits a condition to orders placed in the last N days; without it, the
whole history counts. Each condition is an ``EXISTS`` (or, for counts and sums, an ``IN`` over
one grouped scan of orders): PostgreSQL answers them for all customers in one pass.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Sum

from campaigns.rules import relations
from campaigns.rules.base import (
    CompileContext,
    Condition,
    Param,
    ValidationContext,
    amount,
    choices,
    compare,
    days,
    existing,
    flag,
    holds,
    numeric_value,
    register,
    whole_number,
)
from inventory.models import Category, Product, Sku

WINDOW = Param("optional: only orders placed in the last N days (whole history without it)")
NUMERIC = {"gte": "at least", "lte": "at most", "eq": "exactly", "between": "[low, high]"}


def purchases(context: CompileContext, params: dict[str, Any]) -> QuerySet[Model]:
    """Orders that count as purchases, within the condition's window if it has one."""
    orders = relations.order_model()._default_manager.filter(
        status__in=relations.purchase_statuses()
    )
    if params.get("days"):
        orders = orders.filter(placed_at__gte=context.now - timedelta(days=params["days"]))
    return orders


def purchased_lines(context: CompileContext, params: dict[str, Any]) -> QuerySet[Model]:
    lines = relations.order_line_model()._default_manager.filter(
        order__status__in=relations.purchase_statuses()
    )
    if params.get("days"):
        lines = lines.filter(order__placed_at__gte=context.now - timedelta(days=params["days"]))
    return lines


def exists_for_customer(rows: QuerySet[Model], customer_path: str, operator: str) -> Q:
    """``EXISTS`` of ``rows`` for the customer (``operator`` "in"), or ``NOT EXISTS``."""
    found = Q(Exists(rows.filter(**{customer_path: OuterRef("pk")})))
    return found if operator in ("in", "is") else ~found


def measured(
    rows: QuerySet[Model], customer_column: str, measure: Any, operator: str, value: Any, zero: Any
) -> Q:
    """Customers whose ``measure`` over their ``rows`` compares with ``value``.

    Customers with no rows measure ``zero``: when the comparison holds for zero (``lte 2``
    orders), the condition is "not among those whose measure fails it", so that customers
    who never bought are in too.
    """
    grouped = (
        rows.filter(**{f"{customer_column}__isnull": False})
        .values(customer_column)
        .annotate(measure=measure)
    )
    comparison = compare("measure", operator, value)
    if holds(operator, value, zero):
        return ~Q(pk__in=grouped.exclude(comparison).values(customer_column))
    return Q(pk__in=grouped.filter(comparison).values(customer_column))


def window(params: dict[str, Any]) -> dict[str, Any]:
    return {"days": days(params["days"])} if params.get("days") is not None else {}


@register
class Recency(Condition):
    field = "recency_days"
    label = "Days since the last purchase (whole days; customers who never bought never match)"
    group = "Purchase history"
    operators = {"lte": "days", "gte": "days", "between": "[low, high] days"}
    example = {"field": "recency_days", "operator": "lte", "value": 30}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        def day_count(v: Any) -> int:
            return whole_number(v, what="a number of days", maximum=36600)

        return numeric_value(operator, value, day_count), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        low, high = {
            "lte": lambda: (None, value),
            "gte": lambda: (value, None),
            "between": lambda: tuple(value),
        }[operator]()
        bought = purchases(context, {})

        def bought_after(days_ago: int) -> Q:
            moment = context.now - timedelta(days=days_ago)
            return Q(Exists(bought.filter(customer=OuterRef("pk"), placed_at__gt=moment)))

        # Whole days since the last purchase <= high: a purchase less than high+1 days ago.
        condition = (
            bought_after(high + 1)
            if high is not None
            else Q(Exists(bought.filter(customer=OuterRef("pk"))))
        )
        if low is not None:  # >= low: nothing in the last ``low`` days
            condition &= ~bought_after(low)
        return condition


@register
class Frequency(Condition):
    field = "order_count"
    label = "Number of purchases (frequency)"
    group = "Purchase history"
    operators = {k: f"{v} N orders" if k != "between" else v for k, v in NUMERIC.items()}
    params = {"days": WINDOW}
    example = {"field": "order_count", "operator": "gte", "value": 3, "days": 365}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        def count(v: Any) -> int:
            return whole_number(v, what="a number of orders", maximum=1_000_000)

        return numeric_value(operator, value, count), window(params)

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        return measured(purchases(context, params), "customer_id", Count("pk"), operator, value, 0)


@register
class Spend(Condition):
    field = "spend"
    label = "Amount spent (monetary value: order totals, after points)"
    group = "Purchase history"
    operators = {k: f"{v} this amount" if k != "between" else v for k, v in NUMERIC.items()}
    params = {"days": WINDOW}
    example = {"field": "spend", "operator": "gte", "value": 200, "days": 365}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        cleaned = numeric_value(operator, value, amount)
        as_text = [str(v) for v in cleaned] if operator == "between" else str(cleaned)
        return as_text, window(params)

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        limit = [Decimal(v) for v in value] if operator == "between" else Decimal(value)
        spent = Sum("total")
        return measured(purchases(context, params), "customer_id", spent, operator, limit, 0)


def category_and_descendants(codes: list[str], context: CompileContext) -> list[int]:
    """Ids of the named categories and every category below them (one query per compile)."""
    tree = context.cache.get("categories")
    if tree is None:
        tree = list(Category.objects.values_list("pk", "parent_id", "code"))
        context.cache["categories"] = tree
    children: dict[int | None, list[int]] = {}
    for pk, parent, _ in tree:
        children.setdefault(parent, []).append(pk)
    found: list[int] = []
    todo = [pk for pk, _, code in tree if code in codes]
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.append(pk)
            todo.extend(children.get(pk, []))
    return found


class _Bought(Condition):
    """Bought at least one line matching ``lookup`` (in), or none (not_in)."""

    group = "Purchase history"
    params = {"days": WINDOW}
    what: str

    def lookup(self, value: Any, context: CompileContext) -> dict[str, Any]:
        raise NotImplementedError

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        lines = purchased_lines(context, params).filter(**self.lookup(value, context))
        return exists_for_customer(lines, "order__customer", operator)


@register
class BoughtCategory(_Bought):
    field = "bought_category"
    label = "Bought in a category (its sub-categories included)"
    operators = {"in": "a list of category codes", "not_in": "a list of category codes"}
    example = {"field": "bought_category", "operator": "in", "value": ["running"], "days": 90}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        codes = existing(
            value, what="category codes", model=Category, column="code", context=context
        )
        return codes, window(params)

    def lookup(self, value: Any, context: CompileContext) -> dict[str, Any]:
        return {"sku__product__category_id__in": category_and_descendants(value, context)}


@register
class BoughtSku(_Bought):
    field = "bought_sku"
    label = "Bought a SKU"
    operators = {"in": "a list of SKU codes", "not_in": "a list of SKU codes"}
    example = {"field": "bought_sku", "operator": "in", "value": ["TRAIL-SHOE-42"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        codes = existing(value, what="SKU codes", model=Sku, column="code", context=context)
        return codes, window(params)

    def lookup(self, value: Any, context: CompileContext) -> dict[str, Any]:
        return {"sku__code__in": value}


@register
class BoughtBrand(_Bought):
    field = "bought_brand"
    label = "Bought a brand (the product's brand)"
    operators = {"in": "a list of brands", "not_in": "a list of brands"}
    example = {"field": "bought_brand", "operator": "in", "value": ["Salomon"], "days": 365}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        brands = existing(value, what="brands", model=Product, column="brand", context=context)
        return brands, window(params)

    def lookup(self, value: Any, context: CompileContext) -> dict[str, Any]:
        return {"sku__product__brand__in": value}


class _OrderedWith(Condition):
    """Placed at least one purchase whose ``column`` is one of the values (in), or none."""

    group = "Purchase history"
    params = {"days": WINDOW}
    column: str

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        allowed = relations.field_choices(relations.order_model(), self.column)
        return choices(value, allowed, what=f"{self.column} values"), window(params)

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        orders = purchases(context, params).filter(**{f"{self.column}__in": value})
        return exists_for_customer(orders, "customer", operator)


@register
class BoughtInChannel(_OrderedWith):
    field = "bought_in_channel"
    label = "Bought in a channel (web, ios, android, store)"
    operators = {"in": "a list of channels", "not_in": "a list of channels"}
    column = "channel"
    example = {"field": "bought_in_channel", "operator": "in", "value": ["store"], "days": 180}


@register
class Fulfilment(_OrderedWith):
    field = "fulfilment"
    label = "Bought for pick-up, delivery or in store (pickup, delivery, in_store)"
    operators = {"in": "a list of ways", "not_in": "a list of ways"}
    column = "fulfilment"
    example = {"field": "fulfilment", "operator": "in", "value": ["pickup"]}


@register
class Returned(Condition):
    field = "returned"
    label = "Returned something"
    group = "Purchase history"
    operators = {"is": "true (returned something) or false (never returned anything)"}
    params = {"days": Param("optional: only returns in the last N days")}
    example = {"field": "returned", "operator": "is", "value": True, "days": 90}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        return flag(value), window(params)

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        returns = relations.return_model()._default_manager.all()
        if params.get("days"):
            returns = returns.filter(created_at__gte=context.now - timedelta(days=params["days"]))
        return exists_for_customer(returns, "order__customer", "in" if value else "not_in")
