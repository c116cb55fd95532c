"""Rows of other apps that segment rules read, reached through ``customers.Customer``'s
relations.

``campaigns`` may import ``customers`` and ``inventory`` only: orders and loyalty sit beside
or above it (DESIGN.md). Their rows are still the facts segments are made of, so they are
reached the way the design asks, through model relations: the reverse relation ``orders`` of
``Customer`` leads to the order model, ``loyalty_account`` to the loyalty account, and on from
there (``lines``, ``returns``, ``lots``, ``tier``). Nothing here imports those apps;
if a relation is renamed, ``tests/campaigns/test_relations.py`` fails.
"""

from __future__ import annotations

from django.db.models import Model

from customers.models import Customer

# Orders in these statuses never became a purchase; every other status counts.
NOT_PURCHASES = frozenset({"cancelled", "expired"})


def _related(model: type[Model], name: str) -> type[Model]:
    related = model._meta.get_field(name).related_model
    assert isinstance(related, type), f"{model.__name__}.{name} is not a relation"
    return related


def order_model() -> type[Model]:
    return _related(Customer, "orders")


def order_line_model() -> type[Model]:
    return _related(order_model(), "lines")


def order_event_model() -> type[Model]:
    return _related(order_model(), "events")


def cart_model() -> type[Model]:
    return _related(Customer, "carts")


def return_model() -> type[Model]:
    return _related(order_model(), "returns")


def wish_list_event_model() -> type[Model]:
    """What happened to a customer's saved items (Customer → wish lists → items → events)."""
    items = _related(_related(Customer, "wish_lists"), "items")
    return _related(items, "events")


def loyalty_account_model() -> type[Model]:
    return _related(Customer, "loyalty_account")


def tier_model() -> type[Model]:
    return _related(loyalty_account_model(), "tier")


def points_lot_model() -> type[Model]:
    return _related(loyalty_account_model(), "lots")


def field_choices(model: type[Model], name: str) -> list[str]:
    """The stored values a choice field allows (e.g. an order's channel or fulfilment)."""
    choices = getattr(model._meta.get_field(name), "choices", None) or ()
    return [str(value) for value, _ in choices]


def purchase_statuses() -> list[str]:
    """Order statuses that count as a purchase: all but cancelled and expired."""
    return [s for s in field_choices(order_model(), "status") if s not in NOT_PURCHASES]
