"""Points an order earns once its goods are the customer's (collected, delivered, sold)."""

from loyalty import services as loyalty
from loyalty.models import PointsEntry
from loyalty.services import OfferMultiplier, QuoteLine
from orders.models import Order


def earn_points(order: Order) -> PointsEntry | None:
    """Points for what the customer paid (lines cancelled and refunded before shipping do not
    count), pending until the return window has passed."""
    customer = order.customer
    if customer is None:
        return None
    lines = order.lines.select_related("sku__product")
    return loyalty.earn_for_order(
        customer=customer,
        reference=order.number,
        lines=[
            QuoteLine(line.paid_for_kept, line.sku.product.category_id, line.sku.code)
            for line in lines
        ],
        channel=order.channel,
        idempotency_key=f"order:{order.number}:earn",
        offer=OfferMultiplier(order.points_offer, order.points_multiplier),
    )
