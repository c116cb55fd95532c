"""Returns in any channel: an online order brought back to any store, or sent by post."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import transaction

from inventory import services as inventory
from inventory.models import Location, StockMovement
from loyalty import services as loyalty
from omni.core.errors import InvalidRequest
from omni.core.replay import replay_or_run
from orders.locks import lock_order, lock_order_lines
from orders.models import Order, OrderLine, Return, ReturnLine
from orders.services import money

RETURNABLE = {Order.Status.COLLECTED, Order.Status.DELIVERED, Order.Status.COMPLETED}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReturnedItem:
    order_line_id: int
    quantity: int
    restock: bool  # back on the shelf, or set aside as damaged


# An item coming back, the order line it is from, and what it refunds.
RefundLine = tuple[ReturnedItem, OrderLine, Decimal]


@transaction.atomic
def return_items(
    *,
    order: Order,
    items: list[ReturnedItem],
    idempotency_key: str,
    location: Location | None = None,
    actor: User | None = None,
) -> Return:
    """Take items back: refund what was paid for them (their share of the order's discounts
    included), put restocked ones back in that store's stock through the ledger, reverse the
    points they earned. Nothing can be returned twice: the same return submitted again, or
    twice at once (the first one wins the order's lock), gets the first one back."""
    locked = order  # the order as ``lock`` read it, for ``run``

    def lock() -> None:
        nonlocal locked
        locked = lock_order(order)

    ret, _ = replay_or_run(
        find=lambda: Return.objects.filter(idempotency_key=idempotency_key).first(),
        lock=lock,
        run=lambda: _take_back(
            locked, items, idempotency_key=idempotency_key, location=location, actor=actor
        ),
    )
    return ret


def _take_back(
    order: Order,
    items: list[ReturnedItem],
    *,
    idempotency_key: str,
    location: Location | None,
    actor: User | None,
) -> Return:
    """The return itself, with the order locked."""
    if order.status not in RETURNABLE:
        raise InvalidRequest(
            f"A {order.get_status_display().lower()} order cannot be returned.",
            details={"status": order.status},
        )
    if not items:
        raise InvalidRequest("Say which items come back.")
    lines = lock_order_lines(order, [item.order_line_id for item in items])
    _check(items, lines)
    if location is None and any(item.restock for item in items):
        raise InvalidRequest("Restocking needs the store that takes the items back.")
    refund_lines: list[RefundLine] = []
    for item in items:
        line = lines[item.order_line_id]
        refund = (line.paid * item.quantity / line.quantity).quantize(CENT, ROUND_HALF_UP)
        refund_lines.append((item, line, refund))
        line.returned_quantity += item.quantity
    OrderLine.objects.bulk_update(lines.values(), ["returned_quantity"])
    total_refund = sum((refund for _, _, refund in refund_lines), Decimal(0))
    ret = Return.objects.create(
        order=order,
        location=location,
        refund_amount=total_refund,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                ret=ret,
                order_line=line,
                quantity=item.quantity,
                restocked=item.restock,
                refund_amount=refund,
            )
            for item, line, refund in refund_lines
        ]
    )
    _restock(ret, refund_lines, location, actor)
    ret.points_reversed = _reverse_points(order, ret, refund_lines)
    ret.save(update_fields=["points_reversed"])
    money.give_back(order, total_refund)
    return ret


def _check(items: list[ReturnedItem], lines: dict[int, OrderLine]) -> None:
    seen = set()
    for item in items:
        line = lines.get(item.order_line_id)
        if line is None:
            raise InvalidRequest("That item is not on this order.")
        if item.order_line_id in seen:
            raise InvalidRequest("Name each item once.")
        seen.add(item.order_line_id)
        left = line.kept_quantity - line.returned_quantity
        if not 0 < item.quantity <= left:
            raise InvalidRequest(
                f"{left} of {line.sku.code} can still be returned.",
                details={"sku": line.sku.code, "returnable": left},
            )


def _restock(
    ret: Return, refund_lines: list[RefundLine], location: Location | None, actor: User | None
) -> None:
    if location is None:
        return  # nothing is restocked: return_items refuses restocking without a store
    specs = [
        inventory.MovementSpec(
            line.sku_id,
            location.pk,
            StockMovement.Kind.RETURN,
            item.quantity,
            reason=f"Returned from {ret.order.number}",
            reference=f"return:{ret.public_id}",
        )
        for item, line, _ in refund_lines
        if item.restock
    ]
    if specs:
        inventory.record_movements(specs, actor=actor, source="store")


def _reverse_points(order: Order, ret: Return, refund_lines: list[RefundLine]) -> int:
    customer = order.customer
    if customer is None:
        return 0
    returned_amount = sum((refund for _, _, refund in refund_lines), Decimal(0))
    entry = loyalty.reverse_for_return(
        customer=customer,
        reference=order.number,
        returned_amount=returned_amount,
        idempotency_key=f"return:{ret.public_id}:points",
    )
    return -entry.points if entry else 0
