"""Reads of carts and orders shared by the API, the admin and the clerk pages."""

from collections.abc import Collection
from datetime import datetime, timedelta
from uuid import UUID

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
from inventory.models import Location, Reservation
from orders.models import Cart, CartLine, Order, Parcel, ParcelLine, Shipment, ShipmentLine
from orders.services.lifecycle import TRANSITIONS
from orders.services.returns import RETURNABLE


def cart_detail(cart: Cart) -> Cart:
    """The cart with its lines, their SKUs and products, and its hold expiry, in 3 queries."""
    cart = (
        Cart.objects.select_related("pickup_store")
        .prefetch_related(
            Prefetch("lines", queryset=CartLine.objects.select_related("sku__product"))
        )
        .get(pk=cart.pk)
    )
    cart.hold_expires_at = (
        Reservation.objects.filter(
            reference=cart.hold_reference,
            kind=Reservation.Kind.CART_HOLD,
            status=Reservation.Status.ACTIVE,
        )
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
        if cart.pickup_store_id
        else None
    )
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


def shipment_detail(pk: int, *, location: Location | None = None) -> Shipment | None:
    """One shipment with its order, lines and parcels; ``location`` limits it to that one's."""
    shipments = SHIPMENTS_WITH_CONTENTS.select_related("order__customer").filter(pk=pk)
    if location is not None:
        shipments = shipments.filter(location=location)
    return shipments.first()


# --- The fulfilment API -------------------------------------------------------------------------

# The largest id PostgreSQL's bigint holds: an id in a URL beyond it is simply not found.
MAX_ID = 2**63 - 1


def ship_queue_where(
    location: Location,
    *,
    now: datetime,
    statuses: Collection[str] | None = None,
    late: bool | None = None,
    short: bool | None = None,
) -> QuerySet[Shipment]:
    """``ship_queue`` narrowed to some statuses, to late (or not late) shipments, to shipments
    with (or without) a line reported short; None keeps both."""
    shipments = ship_queue(location, now=now)
    if statuses:
        shipments = shipments.filter(status__in=list(statuses))
    if late is not None:
        shipments = shipments.filter(Q(is_late=late))
    if short is not None:
        shipments = shipments.filter(Q(has_short=short))
    return shipments


def shipment_with_flags(pk: int, *, now: datetime) -> Shipment | None:
    """One shipment as the queue shows it (contents, order, ``is_late``, ``has_short``)."""
    if not 0 < pk <= MAX_ID:
        return None
    shipments = SHIPMENTS_WITH_CONTENTS.select_related("order").filter(pk=pk)
    return with_fulfilment_flags(shipments, now=now).first()


def shipment_to_work(pk: int) -> Shipment | None:
    """A shipment about to be worked on, with its order and location (the service locks and
    re-reads it)."""
    if not 0 < pk <= MAX_ID:
        return None
    return Shipment.objects.select_related("order", "location").filter(pk=pk).first()


def parcel_to_work(public_id: UUID) -> Parcel | None:
    """A parcel by its public id, with its shipment and order."""
    return Parcel.objects.select_related("shipment__order").filter(public_id=public_id).first()
