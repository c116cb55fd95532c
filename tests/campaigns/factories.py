"""Rows segments are made of, written directly (orders, returns, loyalty accounts and lots,
touchpoints) at chosen moments, so that each test can count its segment by hand."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from campaigns.models import Segment
from customers.models import Consent, Customer, Touchpoint
from inventory.models import Location, Sku
from loyalty.models import Account, Card, PointsEntry, PointsLot, Programme, Tier
from orders.models import Order, OrderLine, Return

_numbers = count(1)


def order(
    customer: Customer,
    *,
    at: datetime,
    total: str = "50.00",
    channel: str = "web",
    fulfilment: str = "delivery",
    status: str = "delivered",
    store: Location | None = None,
    skus: tuple[Sku, ...] = (),
    ship_to: dict | None = None,
) -> Order:
    made = Order.objects.create(
        number=f"T-{next(_numbers):06d}",
        customer=customer,
        channel=channel,
        fulfilment=fulfilment,
        status=status,
        store=store,
        ship_to=ship_to or {},
        subtotal=Decimal(total),
        total=Decimal(total),
    )
    Order.objects.filter(pk=made.pk).update(placed_at=at)
    for sku in skus:
        OrderLine.objects.create(
            order=made, sku=sku, quantity=1, unit_price=sku.price, line_total=sku.price
        )
    made.refresh_from_db()
    return made


def returned(of: Order, *, at: datetime) -> Return:
    made = Return.objects.create(order=of, refund_amount=Decimal("10.00"))
    Return.objects.filter(pk=made.pk).update(created_at=at)
    return made


def member(
    customer: Customer, programme: Programme, tier: str, *, available: int = 0, card: str = ""
) -> Account:
    account = Account.objects.create(
        customer=customer,
        programme=programme,
        tier=Tier.objects.get(programme=programme, name=tier),
        tier_anniversary=timezone.localdate() + timedelta(days=200),
        available=available,
    )
    if card:
        Card.objects.create(account=account, number=card)
    return account


def lot(account: Account, points: int, *, expires_at: datetime, pending: bool = False) -> PointsLot:
    entry = PointsEntry.objects.create(
        account=account,
        kind=PointsEntry.Kind.EARN,
        available=0 if pending else points,
        pending=points if pending else 0,
    )
    return PointsLot.objects.create(
        account=account,
        entry=entry,
        points=points,
        remaining=points,
        is_pending=pending,
        matures_at=expires_at - timedelta(days=300),
        expires_at=expires_at,
    )


def touch(customer: Customer, kind: str, *, at: datetime, **fields) -> Touchpoint:
    return Touchpoint.objects.create(
        customer=customer,
        kind=kind,
        channel=fields.pop("channel", "web"),
        occurred_at=at,
        **fields,
    )


def consent(
    customer: Customer, channel: str, purpose: str, granted: bool, *, at: datetime
) -> Consent:
    return Consent.objects.create(
        customer=customer,
        channel=channel,
        purpose=purpose,
        granted=granted,
        source_channel="web",
        recorded_at=at,
    )


def segment(name: str, rules: dict | None = None, **fields) -> Segment:
    """A segment saved as the admin would: its rules checked first."""
    made = Segment(name=name, rules=rules or {}, **fields)
    made.full_clean()
    made.save()
    return made
