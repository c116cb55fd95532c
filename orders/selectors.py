"""Reads of carts and orders shared by the API, the admin and the clerk pages."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from customers.models import Customer
from inventory import selectors as inventory
from inventory.models import Location, Sku
from orders.models import Cart, CartLine, Order, Parcel, ParcelLine, Shipment, ShipmentLine
from orders.services.lifecycle import TRANSITIONS
from orders.services.returns import RETURNABLE


def cart_detail(cart: Cart) -> Cart:
    """The cart with its lines, their SKUs and products, and where its pick-up stock stands
    (``hold_status``, ``short_lines``, ``hold_expires_at``), in 3 queries. Reads only: a lapsed
    hold is left for the next change or checkout to hold again."""
    cart = (
        Cart.objects.select_related("pickup_store")
        .prefetch_related(
            Prefetch("lines", queryset=CartLine.objects.select_related("sku__product"))
        )
        .get(pk=cart.pk)
    )
    cart.hold_status, cart.short_lines, cart.hold_expires_at = Cart.HoldStatus.NONE, [], None
    lines = list(cart.lines.all())
    store_id = cart.pickup_store_id
    if store_id is None or not lines:
        return cart
    stock = inventory.stock_for_holder(
        cart.hold_reference, location_ids=[store_id], sku_ids=[line.sku_id for line in lines]
    )
    here = [stock.get((store_id, line.sku_id), inventory.NOTHING_HELD) for line in lines]
    if all(held.held >= line.quantity for held, line in zip(here, lines, strict=True)):
        cart.hold_status = Cart.HoldStatus.HELD
        cart.hold_expires_at = min(held.hold_expires_at for held in here if held.hold_expires_at)
        return cart
    cart.short_lines = inventory.shortfalls(_wanted(lines), stock, store_id)
    cart.hold_status = Cart.HoldStatus.LOST if cart.short_lines else Cart.HoldStatus.LAPSED
    return cart


# A shipment with its location, its lines' SKUs and products, and its parcels with their lines.
SHIPMENTS_WITH_CONTENTS = Shipment.objects.select_related("location").prefetch_related(
    Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line__sku__product")),
    Prefetch(
        "parcels",
        queryset=Parcel.objects.prefetch_related(
            Prefetch(
                "lines",
                queryset=ParcelLine.objects.select_related("shipment_line__order_line__sku"),
            )
        ),
    ),
)


def _wanted(lines: list[CartLine]) -> list[tuple[Sku, int]]:
    return [(line.sku, line.quantity) for line in lines]


def pickup_stores_for_cart(
    cart: Cart | None, latitude: float, longitude: float, *, limit: int
) -> list[inventory.StoreCoverage]:
    """The ``limit`` pick-up stores nearest the point, nearest first, each with the cart's
    lines it is short of (the cart's own holds count as its own; no cart: nothing is short).
    Three queries whatever the number of lines and stores: the lines, the stores, their stock."""
    lines = list(cart.lines.select_related("sku").order_by("added_at", "pk")) if cart else []
    return inventory.pickup_stores_covering(
        _wanted(lines),
        latitude,
        longitude,
        limit=limit,
        holder=cart.hold_reference if cart else None,
    )


def orders_of(customer: Customer) -> QuerySet[Order]:
    return (
        Order.objects.filter(customer=customer)
        .select_related("store")
        .prefetch_related("lines__sku__product")
        .order_by("-placed_at")
    )


def order_detail(number: str, *, customer: Customer | None = None) -> Order | None:
    """One order with everything its page shows; ``customer`` limits it to their own."""
    orders = Order.objects.filter(number=number)
    if customer is not None:
        orders = orders.filter(customer=customer)
    return (
        orders.select_related("store", "customer")
        .prefetch_related(
            "lines__sku__product",
            "events",
            Prefetch("shipments", queryset=SHIPMENTS_WITH_CONTENTS),
        )
        .first()
    )


def pickup_queue(store: Location) -> QuerySet[Order]:
    """A store's pick-up orders still to hand over: to pick, then ready (soonest deadline first)."""
    return (
        Order.objects.filter(
            store=store,
            fulfilment=Order.Fulfilment.PICKUP,
            status__in=[Order.Status.PLACED, Order.Status.READY_FOR_PICKUP],
        )
        .select_related("customer")
        .prefetch_related("lines__sku__product")
        .order_by("status", "pickup_expires_at", "placed_at")
    )


def next_statuses(order: Order) -> frozenset[str]:
    """The statuses the order may move to from where it is (the one state machine lives in
    ``orders.services.lifecycle``), for pages that offer only the steps that can work."""
    return frozenset(TRANSITIONS[order.fulfilment].get(order.status, set()))


def is_returnable(order: Order) -> bool:
    """Whether items of the order may be brought back now (collected, delivered, completed)."""
    return order.status in RETURNABLE


# --- Delivery fulfilment ------------------------------------------------------------------------

OPEN_SHIPMENT = [Shipment.Status.ALLOCATED, Shipment.Status.PICKED, Shipment.Status.PACKED]


def late_before(now: datetime) -> datetime:
    """Shipments allocated before this moment and not shipped yet are late."""
    return now - timedelta(hours=settings.FULFILMENT_LATE_HOURS)


def with_fulfilment_flags(shipments: QuerySet[Shipment], *, now: datetime) -> QuerySet[Shipment]:
    """Annotate ``is_late`` (open and allocated before ``late_before(now)``) and ``has_short``
    (a line of it was reported short here), in SQL."""
    late = Q(status__in=OPEN_SHIPMENT, created_at__lt=late_before(now))
    short = ShipmentLine.objects.filter(shipment=OuterRef("pk"), short_reported_at__isnull=False)
    return shipments.annotate(
        is_late=ExpressionWrapper(late, output_field=BooleanField()), has_short=Exists(short)
    )


def ship_queue(location: Location, *, now: datetime) -> QuerySet[Shipment]:
    """A location's delivery shipments still to send (to pick, picked, packed), oldest first,
    each with its order, lines, parcels and the ``is_late`` / ``has_short`` flags, in a fixed
    number of queries whatever their number."""
    shipments = (
        SHIPMENTS_WITH_CONTENTS.filter(location=location, status__in=OPEN_SHIPMENT)
        .select_related("order__customer")
        .order_by("created_at", "pk")
    )
    return with_fulfilment_flags(shipments, now=now)


def shipment_detail(
    public_id: uuid.UUID | str, *, location: Location | None = None
) -> Shipment | None:
    """One shipment by its public id, with its order, lines and parcels; ``location`` limits it
    to that one's."""
    shipments = SHIPMENTS_WITH_CONTENTS.select_related("order__customer").filter(
        public_id=public_id
    )
    if location is not None:
        shipments = shipments.filter(location=location)
    return shipments.first()
