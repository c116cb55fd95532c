"""What orders hold about a person: their part of the data export and of erasure, both
registered with ``customers`` in ``OrdersConfig.ready``."""

from typing import Any

from django.db.models import Prefetch, Q

from customers.models import Customer, Identity
from orders.models import (
    Cart,
    CartLine,
    ConversationOrder,
    Order,
    OrderEvent,
    OrderLine,
    Return,
    ReturnLine,
    WishList,
    WishListItem,
)
from orders.selectors import SHIPMENTS_WITH_CONTENTS

# The rows ``export_orders`` covers (see ``customers.selectors.register_export_section``).
EXPORTED_MODELS = ("orders.Order", "orders.Cart", "orders.WishList")

# What an erased customer's delivery address keeps: the country the sale was taxed in.
KEPT_ADDRESS_FIELDS = ("country",)


def erase_order_personal_data(*, customer: Customer) -> None:
    """Orders, lines, payments, shipments and returns stay (the law requires them) without the
    person: delivery addresses keep only their country, timeline notes (free text from staff,
    e.g. what the customer said on the phone) are blanked, cart lines forget the device they
    came from (also lines of guest carts from one of the customer's devices, before they
    signed in) and the customer's carts forget any guest token."""
    addressed = list(Order.objects.filter(customer=customer).exclude(ship_to={}).only("ship_to"))
    for order in addressed:
        order.ship_to = {
            name: order.ship_to[name] for name in KEPT_ADDRESS_FIELDS if name in order.ship_to
        }
    Order.objects.bulk_update(addressed, ["ship_to"])
    OrderEvent.objects.filter(order__customer=customer).exclude(note="").update(note="")
    devices = customer.identities.filter(
        kind__in=[Identity.Kind.DEVICE, Identity.Kind.ANONYMOUS]
    ).values("value")
    CartLine.objects.filter(Q(cart__customer=customer) | Q(device_id__in=devices)).exclude(
        device_id=""
    ).update(device_id="")
    Cart.objects.filter(customer=customer).exclude(guest_token=None).update(guest_token=None)
    # Wish lists are only the person's wishes: nothing the law keeps, so they go whole (their
    # items and events with them), and any link they were shared under dies with them.
    WishList.objects.filter(customer=customer).delete()


# --- Export ---------------------------------------------------------------------------------


def export_orders(*, customer: Customer) -> dict[str, list[dict[str, Any]]]:
    """The customer's orders (lines, timeline, parcels, payments, returns, the service
    conversations about them), carts (lines) and wish lists (items, events), in 16 queries
    whatever their number. Money as strings, dates as objects."""
    orders = (
        Order.objects.filter(customer=customer)
        .select_related("store")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("sku__product")),
            "events",
            Prefetch("shipments", queryset=SHIPMENTS_WITH_CONTENTS),
            "payments",
            Prefetch(
                "conversation_links",
                queryset=ConversationOrder.objects.select_related("conversation"),
            ),
            Prefetch(
                "returns",
                queryset=Return.objects.select_related("location").prefetch_related(
                    Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line__sku"))
                ),
            ),
        )
        .order_by("placed_at", "pk")
    )
    carts = (
        Cart.objects.filter(customer=customer)
        .select_related("pickup_store")
        .prefetch_related(Prefetch("lines", queryset=CartLine.objects.select_related("sku")))
        .order_by("created_at", "pk")
    )
    wish_lists = (
        WishList.objects.filter(customer=customer)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=WishListItem.objects.select_related("product", "sku").prefetch_related(
                    "events"
                ),
            )
        )
        .order_by("created_at", "pk")
    )
    return {
        "orders": [_exported_order(order) for order in orders],
        "carts": [_exported_cart(cart) for cart in carts],
        "wish_lists": [_exported_wish_list(wish_list) for wish_list in wish_lists],
    }


def _exported_order(order: Order) -> dict[str, Any]:
    ready = order.status == Order.Status.READY_FOR_PICKUP
    return {
        "number": order.number,
        "channel": order.channel,
        "fulfilment": order.fulfilment,
        "status": order.status,
        "store": order.store.code if order.store else None,
        "currency": order.currency,
        "subtotal": str(order.subtotal),
        "points_redeemed": order.points_redeemed,
        "points_discount": str(order.points_discount),
        "total": str(order.total),
        "ship_to": order.ship_to,
        # As the order page shows it: only while it opens the shelf.
        "pickup_code": order.pickup_code if ready else None,
        "pickup_expires_at": order.pickup_expires_at,
        "placed_at": order.placed_at,
        # The service conversations about the order (they are in the customers section).
        "conversations": [
            str(link.conversation.public_id) for link in order.conversation_links.all()
        ],
        "lines": [
            {
                "sku": line.sku.code,
                "product": line.sku.product.name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "line_total": str(line.line_total),
                "discount": str(line.discount),
                "returned_quantity": line.returned_quantity,
            }
            for line in order.lines.all()
        ],
        "timeline": [
            {
                "at": event.created_at,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "by": event.actor_label,
                "note": event.note,
            }
            for event in order.events.all()
        ],
        "shipments": [
            {
                "from": shipment.location.code,
                "status": shipment.status,
                "lines": [
                    {
                        "sku": line.order_line.sku.code,
                        "quantity": line.quantity,
                        "status": line.status,
                    }
                    for line in shipment.lines.all()
                ],
                "parcels": [
                    {
                        "status": parcel.status,
                        "carrier": parcel.carrier,
                        "tracking_number": parcel.tracking_number,
                        "tracking_url": parcel.tracking_url,
                        "shipped_at": parcel.shipped_at,
                        "delivered_at": parcel.delivered_at,
                        "lines": [
                            {
                                "sku": item.shipment_line.order_line.sku.code,
                                "quantity": item.quantity,
                            }
                            for item in parcel.lines.all()
                        ],
                    }
                    for parcel in shipment.parcels.all()
                ],
            }
            for shipment in order.shipments.all()
        ],
        "payments": [
            {
                "provider": payment.provider,
                "reference": payment.reference,
                "amount": str(payment.amount),
                "refunded": str(payment.refunded),
                "status": payment.status,
                "created_at": payment.created_at,
            }
            for payment in order.payments.all()
        ],
        "returns": [
            {
                "id": str(ret.public_id),
                "store": ret.location.code if ret.location else None,
                "refund_amount": str(ret.refund_amount),
                "points_reversed": ret.points_reversed,
                "created_at": ret.created_at,
                "lines": [
                    {
                        "sku": line.order_line.sku.code,
                        "quantity": line.quantity,
                        "restocked": line.restocked,
                        "refund_amount": str(line.refund_amount),
                    }
                    for line in ret.lines.all()
                ],
            }
            for ret in order.returns.all()
        ],
    }


def _exported_cart(cart: Cart) -> dict[str, Any]:
    return {
        "id": str(cart.public_id),
        "status": cart.status,
        "currency": cart.currency,
        "pickup_store": cart.pickup_store.code if cart.pickup_store else None,
        "created_at": cart.created_at,
        "updated_at": cart.updated_at,
        "lines": [
            {
                "sku": line.sku.code,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "channel": line.channel,
                "device_id": line.device_id,
                "added_at": line.added_at,
            }
            for line in cart.lines.all()
        ],
    }


def _exported_wish_list(wish_list: WishList) -> dict[str, Any]:
    return {
        "id": str(wish_list.public_id),
        "name": wish_list.name,
        "is_default": wish_list.is_default,
        "shared": bool(wish_list.share_token),
        "created_at": wish_list.created_at,
        "items": [
            {
                "product": item.product.code,
                "sku": item.sku.code if item.sku else None,
                "channel": item.channel,
                "added_at": item.added_at,
                "price_when_added": str(item.price_when_added),
                "events": [
                    {"kind": event.kind, "at": event.at, "details": event.details}
                    for event in item.events.all()
                ],
            }
            for item in wish_list.items.all()
        ],
    }
