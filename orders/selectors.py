"""Reads of carts and orders shared by the API, the admin and the clerk pages."""

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import reduce
from operator import or_
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)

from customers.models import Conversation, Customer
from inventory import selectors as inventory
from inventory.models import Location, Sku
from omni.core.channels import Channel
from orders.models import (
    Cart,
    CartCoupon,
    CartLine,
    Order,
    Parcel,
    ParcelLine,
    Shipment,
    ShipmentLine,
    WishList,
    WishListItem,
)
from orders.services import offers as orders_services
from orders.services import wishlists
from orders.services.lifecycle import TRANSITIONS
from orders.services.returns import RETURNABLE


def cart_detail(
    cart: Cart,
    *,
    channel: str | None = None,
    customer: Customer | None = None,
    store: Location | None = None,
) -> Cart:
    """The cart with its lines, their SKUs and products, where its pick-up stock stands
    (``hold_status``, ``short_lines``, ``hold_expires_at``) and what its offers and coupons
    take off (``pricing``, for ``channel``: by default the one its last line came from; for
    ``customer`` and at ``store``, a till's sale: by default the cart's own), in a bounded
    number of queries. Reads only: a lapsed hold is left for the next change or
    checkout to hold again."""
    cart = (
        Cart.objects.select_related("pickup_store", "customer")
        .prefetch_related(
            Prefetch("lines", queryset=CartLine.objects.select_related("sku__product")),
            Prefetch("coupons", queryset=CartCoupon.objects.select_related("coupon__offer")),
        )
        .get(pk=cart.pk)
    )
    cart.hold_status, cart.short_lines, cart.hold_expires_at = Cart.HoldStatus.NONE, [], None
    lines = list(cart.lines.all())
    last = max(lines, key=lambda line: line.updated_at, default=None)
    cart.pricing = orders_services.price_cart(
        cart,
        channel=channel or (last.channel if last else Channel.WEB),
        customer=customer,
        lines=lines,
        store=store,
    )
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


def with_contents(shipments: QuerySet[Shipment]) -> QuerySet[Shipment]:
    """Shipments with their location, their lines' SKUs and products, and their parcels with
    their lines, in a fixed number of queries whatever their number."""
    return shipments.select_related("location").prefetch_related(
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


# A shipment with its location, its lines' SKUs and products, and its parcels with their lines.
SHIPMENTS_WITH_CONTENTS = with_contents(Shipment.objects.all())


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


def orders_of_conversation(conversation: Conversation) -> QuerySet[Order]:
    """The orders a service conversation is about, in the order they were linked."""
    return (
        Order.objects.filter(conversation_links__conversation=conversation)
        .select_related("store")
        .order_by("conversation_links__linked_at", "pk")
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


def short_reportable_lines(shipment: Shipment) -> QuerySet[ShipmentLine]:
    """The shipment's lines its location may still report short: not sent, nothing of them in
    a parcel, the shipment open and its order still being shipped (``services.report_short``
    refuses the rest), for pages that offer only what can work."""
    if shipment.status not in OPEN_SHIPMENT:
        return ShipmentLine.objects.none()
    return (
        ShipmentLine.objects.filter(
            shipment=shipment,
            shipment__order__status__in=[Order.Status.ALLOCATED, Order.Status.PARTLY_SHIPPED],
            status__in=[ShipmentLine.Status.OPEN, ShipmentLine.Status.PICKED],
            parcel_lines__isnull=True,
        )
        .select_related("order_line__sku__product")
        .order_by("pk")
    )


def carrier_names() -> list[str]:
    """The carriers parcels left with, each once whatever its case ("Colissimo", "COLISSIMO"),
    under the spelling most parcels use, in alphabetical order."""
    spellings = (
        Parcel.objects.exclude(carrier="")
        .order_by()
        .values("carrier")
        .annotate(parcels=Count("pk"))
        .values_list("carrier", "parcels")
    )
    best: dict[str, tuple[int, str]] = {}
    for carrier, parcels in spellings:
        key = carrier.casefold()
        best[key] = max(best.get(key, (0, "")), (parcels, carrier))
    return sorted((carrier for _, carrier in best.values()), key=str.casefold)


# --- What each location did today, and has left to do ----------------------------------------


def local_midnights(now: datetime) -> dict[str, datetime]:
    """When today began in each time zone locations keep: a location's "today" is its own day,
    whatever the server's time zone."""
    zones = Location.objects.order_by("time_zone").values_list("time_zone", flat=True).distinct()
    return {zone: _midnight(now, zone) for zone in zones}


def _midnight(now: datetime, zone: str) -> datetime:
    local = ZoneInfo(zone)
    return datetime.combine(now.astimezone(local).date(), time.min, tzinfo=local)


def _today_at_location(field: str, midnights: dict[str, datetime]) -> Q:
    """``field`` is today at its row's shipment's location (in that location's time zone)."""
    return reduce(
        or_,
        (
            Q(shipment__location__time_zone=zone, **{f"{field}__gte": midnight})
            for zone, midnight in midnights.items()
        ),
        Q(pk__in=[]),
    )


def _parcels_shipped_today(midnights: dict[str, datetime]) -> QuerySet[Parcel]:
    return Parcel.objects.filter(_today_at_location("shipped_at", midnights))


def _lines_reported_short_today(midnights: dict[str, datetime]) -> QuerySet[ShipmentLine]:
    return ShipmentLine.objects.filter(_today_at_location("short_reported_at", midnights))


def shipped_today(now: datetime) -> Q:
    """Shipments a parcel of which left today (the location's day)."""
    return Q(pk__in=_parcels_shipped_today(local_midnights(now)).values("shipment"))


def reported_short_today(now: datetime) -> Q:
    """Shipments a line of which their location reported short today (the location's day)."""
    return Q(pk__in=_lines_reported_short_today(local_midnights(now)).values("shipment"))


@dataclass(frozen=True)
class LocationWorkload:
    """One location's delivery shipments: still to send by step (``late`` counts those of them
    open longer than ``FULFILMENT_LATE_HOURS``), and, today, reported short or shipped."""

    code: str
    name: str
    to_pick: int = 0
    picked: int = 0
    packed: int = 0
    late: int = 0
    short_today: int = 0
    shipped_today: int = 0

    @property
    def open(self) -> int:
        return self.to_pick + self.picked + self.packed


def fulfilment_overview(*, now: datetime) -> list[LocationWorkload]:
    """Every location with delivery work open or done today, the most late first, then the most
    open, in five queries whatever the number of locations and shipments."""
    status = Shipment.Status
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    open_work = (
        Shipment.objects.filter(status__in=OPEN_SHIPMENT)
        .order_by()
        .values("location")
        .annotate(
            to_pick=Count("pk", filter=Q(status=status.ALLOCATED)),
            picked=Count("pk", filter=Q(status=status.PICKED)),
            packed=Count("pk", filter=Q(status=status.PACKED)),
            late=Count("pk", filter=Q(created_at__lt=late_before(now))),
        )
    )
    for row in open_work:
        counts[row["location"]].update(
            to_pick=row["to_pick"], picked=row["picked"], packed=row["packed"], late=row["late"]
        )
    midnights = local_midnights(now)
    done_today = [
        ("shipped_today", _parcels_shipped_today(midnights)),
        ("short_today", _lines_reported_short_today(midnights)),
    ]
    for name, rows in done_today:
        per_location = (
            rows.order_by()
            .values("shipment__location")
            .annotate(shipments=Count("shipment", distinct=True))
            .values_list("shipment__location", "shipments")
        )
        for location, shipments in per_location:
            counts[location][name] = shipments
    locations = Location.objects.in_bulk(list(counts))
    workloads = [
        LocationWorkload(code=locations[pk].code, name=locations[pk].name, **numbers)
        for pk, numbers in counts.items()
    ]
    return sorted(workloads, key=lambda w: (-w.late, -w.open, w.name))


# --- The fulfilment API -------------------------------------------------------------------------


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


def shipment_with_flags(public_id: UUID, *, now: datetime) -> Shipment | None:
    """One shipment as the queue shows it (contents, order, ``is_late``, ``has_short``)."""
    shipments = SHIPMENTS_WITH_CONTENTS.select_related("order").filter(public_id=public_id)
    return with_fulfilment_flags(shipments, now=now).first()


def shipment_to_work(public_id: UUID) -> Shipment | None:
    """A shipment about to be worked on, with its order and location (the service locks and
    re-reads it)."""
    return Shipment.objects.select_related("order", "location").filter(public_id=public_id).first()


def shipment_line_ids(shipment: Shipment, public_ids: Collection[UUID]) -> dict[UUID, int]:
    """The database ids of the shipment's lines with these public ids (the services take
    those); public ids of other shipments' lines are absent."""
    return dict(
        ShipmentLine.objects.filter(shipment=shipment, public_id__in=list(public_ids)).values_list(
            "public_id", "pk"
        )
    )


def parcel_to_work(public_id: UUID) -> Parcel | None:
    """A parcel by its public id, with its shipment and order."""
    return Parcel.objects.select_related("shipment__order").filter(public_id=public_id).first()


# --- Wish lists -------------------------------------------------------------------------------


def _wish_list_items(*, store: Location | None = None) -> QuerySet[WishListItem]:
    """Items with their product, SKU, images and price now (``price_now``); with ``store``,
    what it has of each available now (``available_here``)."""
    items = WishListItem.objects.select_related("product", "sku", "added_by").annotate(
        price_now=wishlists.current_price()
    )
    if store is not None:
        items = items.annotate(available_here=wishlists.available_at(store.pk))
    return items.prefetch_related("product__images")


def wish_lists_of(owner: "wishlists.Owner") -> list[WishList]:
    """The owner's lists, the default first, each with its items (``item_list``): four
    queries however many lists and items."""
    items = _wish_list_items()
    return list(
        owner.lists().prefetch_related(Prefetch("items", queryset=items, to_attr="item_list"))
    )


def wish_list_detail(wish_list: WishList) -> WishList:
    """One list as ``wish_lists_of`` reads it."""
    prefetch_related_objects(
        [wish_list], Prefetch("items", queryset=_wish_list_items(), to_attr="item_list")
    )
    return wish_list


def shared_wish_list(share_token: str) -> WishList | None:
    """The list shared under this link, while its owner shares it (None: no such link, or
    turned off)."""
    if not share_token:
        return None
    found = WishList.objects.filter(share_token=share_token).first()
    return wish_list_detail(found) if found is not None else None


def wish_list_items_at(customer: Customer, store: Location) -> list[WishListItem]:
    """Every item on the customer's lists, with its list, its price now and what ``store`` has
    available of it (``available_here``), in one query plus one for the images."""
    return list(
        _wish_list_items(store=store)
        .select_related("wish_list")
        .filter(wish_list__customer=customer)
        .order_by("wish_list__created_at", "wish_list__pk", "added_at", "pk")
    )
