"""Reads the clerk pages compose from every app's selectors, each in a fixed number of queries."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
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

from customers.models import Customer
from customers.selectors import customers_matching_any_identity
from inventory.models import Location, Sku, StockLevel
from loyalty.models import PointsEntry
from loyalty.selectors import Summary, account_of, account_summary
from omni.models import StoreAssignment
from orders.models import Cart, CartLine, Order, Return
from orders.selectors import cart_detail, order_detail, orders_of, pickup_queue
from orders.services import cart_of

# A ready order this close to its deadline (or past it) needs a call to the customer.
OVERDUE_WITHIN = timedelta(days=1)
MAX_CUSTOMERS_FOUND = 10


def store_of(user: User) -> Location | None:
    """The store a clerk works for, or None until a manager assigns one."""
    assignment = StoreAssignment.objects.select_related("store").filter(user=user).first()
    return assignment.store if assignment else None


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
    cart = cart_detail(cart)
    lines = CartLine.objects.select_related("sku__product", "added_by")
    if store is not None:
        here = StockLevel.objects.filter(location=store, sku=OuterRef("sku")).values("on_hand")
        lines = lines.annotate(on_hand_here=Coalesce(Subquery(here[:1]), 0))
    prefetch_related_objects([cart], Prefetch("lines", queryset=lines, to_attr="line_list"))
    return cart


@dataclass
class CustomerPicture:
    customer: Customer
    loyalty: Summary | None
    cart: Cart | None
    orders: list[Order]


def customer_picture(customer: Customer, *, now: datetime) -> CustomerPicture:
    """Everything a clerk sees of one customer: loyalty, the live cart (lines from every
    channel) and orders from every channel, in a fixed number of queries."""
    account = account_of(customer)
    return CustomerPicture(
        customer=customer,
        loyalty=account_summary(account, now=now) if account else None,
        cart=live_cart(cart_of(customer=customer, create=False)),
        orders=list(orders_of(customer)),
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


def points_earned_by(order: Order) -> int:
    """Points (still pending) the customer earned with this order."""
    if order.customer_id is None:
        return 0
    earned = PointsEntry.objects.filter(
        reference=order.number, kind=PointsEntry.Kind.EARN, account__customer=order.customer_id
    ).aggregate(total=Sum("pending"))["total"]
    return earned or 0
