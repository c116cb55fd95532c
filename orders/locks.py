"""Every row lock of orders' tables (carts, orders, their lines, shipments, payments) goes
through here, so the lock order (primary key) and what is locked (``of``: the table's own rows,
never the rows a ``select_related`` joins in) are decided once.

Each function runs inside the caller's transaction, which holds the lock until it commits.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from inventory.models import Location
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    Parcel,
    Payment,
    Shipment,
    ShipmentLine,
)

SELF = ("self",)


def lock_cart(cart: Cart) -> Cart:
    """The cart, fresh from the database and locked: its writes (lines, holds, checkout)
    happen one at a time, whichever device or channel sends them."""
    return Cart.objects.select_for_update(of=SELF).get(pk=cart.pk)


def lock_cart_lines(cart: Cart) -> list[CartLine]:
    """The cart's lines with their SKUs, locked in primary-key order (to bring their prices
    up to date)."""
    return list(cart.lines.select_related("sku").select_for_update(of=SELF).order_by("pk"))


def lock_order(order: Order) -> Order:
    """The order, fresh and locked, with the store and customer its next step reads: a status
    change, a hand-over or a return happens once, whoever asks at the same moment."""
    return (
        Order.objects.select_for_update(of=SELF)
        .select_related("store", "customer")
        .get(pk=order.pk)
    )


def lock_order_if_still(pending: QuerySet[Order], pk: int) -> Order | None:
    """The order ``pk`` locked if it is still in ``pending`` and no other transaction holds it
    (``skip_locked``), else None: a scheduled run passes over what another run is doing or
    has done meanwhile, instead of waiting for it."""
    return pending.select_for_update(of=SELF, skip_locked=True).filter(pk=pk).first()


def lock_order_lines(order: Order, pks: Iterable[int]) -> dict[int, OrderLine]:
    """These lines of the order (those that are on it), with their SKUs, locked in
    primary-key order and keyed by primary key."""
    lines = (
        OrderLine.objects.select_for_update(of=SELF)
        .select_related("sku")
        .filter(order=order, pk__in=list(pks))
        .order_by("pk")
    )
    return {line.pk: line for line in lines}


def lock_payments(order: Order, *, statuses: Iterable[str]) -> list[Payment]:
    """The order's payments in these statuses, locked, oldest first (primary-key order)."""
    return list(
        order.payments.select_for_update(of=SELF).filter(status__in=list(statuses)).order_by("pk")
    )


def lock_shipment(shipment: Shipment) -> Shipment:
    """The shipment, fresh and locked (the caller holds its order's lock first)."""
    return Shipment.objects.select_for_update(of=SELF).get(pk=shipment.pk)


def lock_shipment_lines(shipment: Shipment) -> dict[int, ShipmentLine]:
    """The shipment's lines with their order lines and SKUs, locked in primary-key order and
    keyed by primary key (the caller holds the shipment's lock first)."""
    lines = (
        ShipmentLine.objects.select_for_update(of=SELF)
        .select_related("order_line__sku")
        .filter(shipment=shipment)
        .order_by("pk")
    )
    return {line.pk: line for line in lines}


def lock_order_line(pk: int) -> OrderLine:
    """One order line, fresh and locked (the caller holds its order's lock first)."""
    return OrderLine.objects.select_for_update(of=SELF).select_related("sku").get(pk=pk)


def lock_parcel(parcel: Parcel) -> Parcel:
    """The parcel, fresh and locked (the caller holds its order's and shipment's locks)."""
    return Parcel.objects.select_for_update(of=SELF).get(pk=parcel.pk)


def lock_open_shipment_at(order: Order, location: Location) -> Shipment | None:
    """The order's shipment at this location that has not started packing (to pick or
    picked), locked, if it has one (the caller holds the order's lock first)."""
    return (
        Shipment.objects.select_for_update(of=SELF)
        .filter(
            order=order,
            location=location,
            status__in=[Shipment.Status.ALLOCATED, Shipment.Status.PICKED],
        )
        .first()
    )
