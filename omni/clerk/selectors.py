"""Reads the clerk pages compose from every app's selectors, each in a fixed number of queries."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce

from campaigns.selectors import (
    CounterMessage,
    PersonalOffer,
    counter_messages_for,
    offers_for_customer,
    recommended_for,
)
from customers.models import Customer, Touchpoint
from customers.selectors import customers_matching_any_identity, latest_survey_answers
from inventory.models import Location, Product, Sku, StockLevel
from inventory.selectors import with_sellable
from loyalty.models import PointsEntry
from loyalty.selectors import Summary, account_of, account_summary
from omni.core.channels import Channel
from omni.models import StoreAssignment
from orders.models import (
    Cart,
    CartLine,
    Order,
    Parcel,
    Return,
    Shipment,
    ShipmentLine,
    WishListItem,
)
from orders.selectors import (
    OPEN_SHIPMENT,
    SHIPMENTS_WITH_CONTENTS,
    cart_detail,
    late_before,
    order_detail,
    orders_of,
    pickup_queue,
    ship_queue,
    wish_list_items_at,
    with_fulfilment_flags,
)
from orders.services import cart_of

# A ready order this close to its deadline (or past it) needs a call to the customer.
OVERDUE_WITHIN = timedelta(days=1)
MAX_CUSTOMERS_FOUND = 10


@dataclass(frozen=True)
class Workplace:
    """The store a clerk works for, with what its navigation counts: the delivery shipments
    it has still to send and how many of them are late."""

    store: Location
    to_ship: int
    late_to_ship: int


def workplace_of(user: User, *, now: datetime) -> Workplace | None:
    """The clerk's store and its counts in one query, or None until a manager assigns one."""
    open_here = Shipment.objects.filter(location=OuterRef("store"), status__in=OPEN_SHIPMENT)
    assignment = (
        StoreAssignment.objects.select_related("store")
        .annotate(
            to_ship=_count(open_here),
            late_to_ship=_count(open_here.filter(created_at__lt=late_before(now))),
        )
        .filter(user=user)
        .first()
    )
    if assignment is None:
        return None
    return Workplace(assignment.store, assignment.to_ship, assignment.late_to_ship)


def _count(rows: QuerySet[Shipment]) -> Coalesce:
    """How many ``rows`` (a queryset bound to the outer row by ``OuterRef``), as a subquery."""
    counted = rows.order_by().values("location").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1]), 0)


@dataclass
class PickupGroups:
    to_pick: list[Order] = field(default_factory=list)
    ready: list[Order] = field(default_factory=list)
    overdue: list[Order] = field(default_factory=list)


def pickup_groups(store: Location, *, now: datetime) -> PickupGroups:
    """The store's pick-up queue in three groups: placed (to pick), ready on the shelf, and
    ready but past or within a day of its deadline (overdue), soonest deadline first. An
    overdue order says whether its deadline has passed (``order.deadline_passed``)."""
    groups = PickupGroups()
    passed = ExpressionWrapper(Q(pickup_expires_at__lte=now), output_field=BooleanField())
    for order in pickup_queue(store).annotate(deadline_passed=passed):
        if order.status == Order.Status.PLACED:
            groups.to_pick.append(order)
        elif order.pickup_expires_at and order.pickup_expires_at <= now + OVERDUE_WITHIN:
            groups.overdue.append(order)
        else:
            groups.ready.append(order)
    return groups


def order_for_clerk(number: str) -> Order | None:
    """One order of any store or channel, with its lines, timeline and returns
    (``order.taken_returns``)."""
    order = order_detail(number)
    if order is None:
        return None
    returns = Return.objects.select_related("location").prefetch_related("lines__order_line__sku")
    prefetch_related_objects(
        [order], Prefetch("returns", queryset=returns, to_attr="taken_returns")
    )
    return order


def customers_found(term: str) -> QuerySet[Customer]:
    """Customers a phone (any format), e-mail or loyalty card number finds (cards are identities
    of their customer while active), with their loyalty account and orders from every channel."""
    return (
        Customer.objects.filter(pk__in=customers_matching_any_identity(term).values("pk"))
        .filter(erased_at=None)
        .select_related("loyalty_account__tier")
        .prefetch_related(
            Prefetch(
                "orders",
                queryset=Order.objects.select_related("store").order_by("-placed_at"),
                to_attr="all_orders",
            )
        )
        .order_by("last_name", "first_name", "pk")[:MAX_CUSTOMERS_FOUND]
    )


def customer_for_clerk(public_id: uuid.UUID | str) -> Customer | None:
    return Customer.objects.filter(public_id=public_id, erased_at=None).first()


def live_cart(cart: Cart | None, *, store: Location | None = None) -> Cart | None:
    """A cart with its lines (``cart.line_list``), where each line came from (channel, device,
    the clerk who added it) and the total; with ``store``, each line's units on hand there
    (``line.on_hand_here``)."""
    if cart is None:
        return None
    return _with_line_origins(cart_detail(cart), store=store)


def till_cart(cart: Cart | None, *, store: Location, customer: Customer | None) -> Cart | None:
    """The till's cart as ``live_cart`` reads it, priced as a sale at ``store`` to
    ``customer`` (their tier, segments and personal codes count; a walk-in's do not)."""
    if cart is None:
        return None
    priced = cart_detail(cart, channel=Channel.STORE, customer=customer, store=store)
    return _with_line_origins(priced, store=store)


def _with_line_origins(cart: Cart, *, store: Location | None) -> Cart:
    lines = CartLine.objects.select_related("sku__product", "added_by")
    if store is not None:
        here = StockLevel.objects.filter(location=store, sku=OuterRef("sku")).values("on_hand")
        lines = lines.annotate(on_hand_here=Coalesce(Subquery(here[:1]), 0))
    prefetch_related_objects([cart], Prefetch("lines", queryset=lines, to_attr="line_list"))
    return cart


RECOMMENDED_AT_THE_COUNTER = 5  # a few to mention, not a catalogue


@dataclass
class CustomerPicture:
    customer: Customer
    loyalty: Summary | None
    cart: Cart | None
    orders: list[Order]
    offers: list[PersonalOffer]
    recommended: list[Product]
    counter_messages: list[CounterMessage]
    # Their wish-list items, each with what the clerk's store has available
    # (``item.available_here``); empty without a store.
    wish_list: list[WishListItem] = field(default_factory=list)
    survey_answers: list[Touchpoint] = field(default_factory=list)


def customer_picture(
    customer: Customer, *, now: datetime, store: Location | None = None
) -> CustomerPicture:
    """Everything a clerk sees of one customer: loyalty, the live cart (lines from every
    channel), orders from every channel, the offers and codes they may use now, products to
    suggest, what running campaigns ask the counter to say, their wish-list items with the stock
    at ``store`` (the clerk's) and their latest survey answers, in a fixed number of queries."""
    account = account_of(customer)
    return CustomerPicture(
        customer=customer,
        loyalty=account_summary(account, now=now) if account else None,
        cart=live_cart(cart_of(customer=customer, create=False)),
        orders=list(orders_of(customer)),
        offers=offers_for_customer(customer, now=now),
        recommended=recommended_for(customer, limit=RECOMMENDED_AT_THE_COUNTER),
        counter_messages=counter_messages_for(customer, now=now),
        wish_list=wish_list_items_at(customer, store) if store is not None else [],
        survey_answers=latest_survey_answers(customer),
    )


def sku_code_scanned(term: str) -> str:
    """The SKU code that a typed code (any case) or a scanned barcode stands for. What matches
    nothing comes back as typed, so the cart service refuses it by name."""
    term = term.strip()
    code = (
        Sku.objects.filter(Q(code=term) | Q(code=term.upper()) | Q(barcode=term))
        .values_list("code", flat=True)
        .first()
    )
    return code or term


def wish_list_codes(term: str) -> dict[str, str]:
    """What a code typed or scanned at the counter names for a wish list: a SKU (its code,
    any case, or its barcode) or else a product code, as the save service's arguments."""
    code = sku_code_scanned(term)
    if Sku.objects.filter(code=code).exists():
        return {"sku_code": code}
    return {"product_code": term.strip()}


def points_earned_by(order: Order) -> int:
    """Points (still pending) the customer earned with this order."""
    if order.customer_id is None:
        return 0
    earned = PointsEntry.objects.filter(
        reference=order.number, kind=PointsEntry.Kind.EARN, account__customer=order.customer_id
    ).aggregate(total=Sum("pending"))["total"]
    return earned or 0


# --- Ship from store --------------------------------------------------------------------------

SL = ShipmentLine.Status


@dataclass
class ShipGroups:
    """A store's delivery shipments still to send, by what the store does next."""

    to_pick: list[Shipment] = field(default_factory=list)
    to_pack: list[Shipment] = field(default_factory=list)  # picked
    packed: list[Shipment] = field(default_factory=list)  # waiting for the carrier


def ship_groups(store: Location, *, now: datetime) -> ShipGroups:
    """The store's ship queue (``orders.selectors.ship_queue``) in three groups, each oldest
    first, which puts the late ones first (late means allocated before a cut-off); each
    shipment carries its ``is_late`` and ``has_short`` flags, its order and customer, lines
    and parcels. The same few queries whatever the queue's length."""
    groups = ShipGroups()
    group_of = {
        Shipment.Status.ALLOCATED.value: groups.to_pick,
        Shipment.Status.PICKED.value: groups.to_pack,
        Shipment.Status.PACKED.value: groups.packed,
    }
    for shipment in ship_queue(store, now=now):
        group_of[shipment.status].append(shipment)
    return groups


@dataclass
class PickRow:
    """One line of a shipment's pick list, with its units already in a parcel."""

    line: ShipmentLine
    packed: int

    @property
    def to_pack(self) -> int:
        """Picked units not in a parcel yet."""
        return self.line.quantity - self.packed if self.line.status == SL.PICKED else 0

    @property
    def movable(self) -> bool:
        """Still to send and none of it in a parcel: the line may be reported short or move
        to another location."""
        return self.line.status in (SL.OPEN, SL.PICKED) and not self.packed


@dataclass
class ShipmentWork:
    """A shipment as its pick list shows it: every line (``rows``), the parcels packed and
    waiting for the carrier, and those that left."""

    shipment: Shipment
    rows: list[PickRow]
    waiting: list[Parcel]
    left: list[Parcel]

    @property
    def to_pick(self) -> list[PickRow]:
        return [row for row in self.rows if row.line.status == SL.OPEN]

    @property
    def to_pack(self) -> list[PickRow]:
        return [row for row in self.rows if row.to_pack]

    @property
    def movable(self) -> list[PickRow]:
        return [row for row in self.rows if row.movable]

    @property
    def is_open(self) -> bool:
        return self.shipment.status in OPEN_SHIPMENT


def shipment_work(shipment: Shipment) -> ShipmentWork:
    """The pick list of a shipment read with ``SHIPMENTS_WITH_CONTENTS`` (no further query)."""
    packed: dict[int, int] = {}
    parcels = list(shipment.parcels.all())
    for parcel in parcels:
        for item in parcel.lines.all():
            packed[item.shipment_line_id] = packed.get(item.shipment_line_id, 0) + item.quantity
    return ShipmentWork(
        shipment=shipment,
        rows=[PickRow(line, packed.get(line.pk, 0)) for line in shipment.lines.all()],
        waiting=[p for p in parcels if p.status == Parcel.Status.PACKED],
        left=[p for p in parcels if p.status != Parcel.Status.PACKED],
    )


def shipment_for_clerk(number: str, public_id: uuid.UUID, *, now: datetime) -> ShipmentWork | None:
    """Shipment ``public_id`` of order ``number`` (any location's: other stores see it read-only),
    with its order, customer, lines, parcels and the ``is_late`` / ``has_short`` flags, in a
    fixed number of queries."""
    shipments = SHIPMENTS_WITH_CONTENTS.select_related("order__customer").filter(
        public_id=public_id, order__number=number
    )
    shipment = with_fulfilment_flags(shipments, now=now).first()
    return shipment_work(shipment) if shipment is not None else None


@dataclass
class OrderShipment:
    """One shipment of a delivery order as the clerk's order page shows it: its pick list and
    parcels (``work``), whether the clerk's store ships it (``own``), and for another
    location's open shipment, the lines the store could take over (still to send, none of
    them in a parcel) and whether the store has them all available now (``store_covers``: a
    hint for the page; the move itself reserves or refuses)."""

    work: ShipmentWork
    own: bool
    movable: list[ShipmentLine] = field(default_factory=list)
    store_covers: bool = False

    @property
    def shipment(self) -> Shipment:
        return self.work.shipment


def order_shipments(order: Order, store: Location) -> list[OrderShipment]:
    """The shipments of an order read with ``order_detail``, for the clerk at ``store``: one
    query for the store's stock, none when no other location has lines it could take over."""
    shown = []
    for shipment in order.shipments.all():
        work = shipment_work(shipment)
        own = shipment.location_id == store.pk
        movable = [] if own or not work.is_open else [row.line for row in work.movable]
        shown.append(OrderShipment(work, own, movable))
    needed = {line.order_line.sku_id for shown_one in shown for line in shown_one.movable}
    if not needed:
        return shown
    available = dict(
        with_sellable(StockLevel.objects.filter(location=store, sku_id__in=needed))
        .order_by()
        .values_list("sku_id", "sellable")
    )
    for shown_one in shown:
        shown_one.store_covers = bool(shown_one.movable) and all(
            available.get(line.order_line.sku_id, 0) >= line.quantity for line in shown_one.movable
        )
    return shown
