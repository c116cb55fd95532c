"""Every write about carts and orders, each atomic; views, tasks and the admin call these."""

from orders.services.carts import (
    cart_of,
    choose_pickup_store,
    keep_holds_alive,
    merge_guest_cart,
    remove_line,
    set_line,
)
from orders.services.checkout import Address, CheckoutResult, checkout
from orders.services.conversations import link_conversation_orders, receive_support_message
from orders.services.fulfilment import (
    cancel_order,
    collect_pickup,
    expire_uncollected_pickups,
    mark_ready_for_pickup,
    pickup_code_attempts_left,
    send_pickup_reminders,
    unlock_pickup_code,
)
from orders.services.offers import apply_coupon, price_cart, remove_coupon
from orders.services.returns import ReturnedItem, return_items
from orders.services.shipping import (
    Tracking,
    mark_delivered,
    mark_parcel_delivered,
    move_lines,
    pack,
    pick,
    record_carrier_event,
    report_short,
    ship,
    ship_parcel,
)

__all__ = [
    "Address",
    "CheckoutResult",
    "ReturnedItem",
    "Tracking",
    "apply_coupon",
    "cancel_order",
    "cart_of",
    "checkout",
    "choose_pickup_store",
    "collect_pickup",
    "expire_uncollected_pickups",
    "keep_holds_alive",
    "link_conversation_orders",
    "mark_delivered",
    "mark_parcel_delivered",
    "mark_ready_for_pickup",
    "merge_guest_cart",
    "move_lines",
    "pack",
    "pick",
    "pickup_code_attempts_left",
    "price_cart",
    "receive_support_message",
    "record_carrier_event",
    "remove_coupon",
    "remove_line",
    "report_short",
    "return_items",
    "send_pickup_reminders",
    "set_line",
    "ship",
    "ship_parcel",
    "unlock_pickup_code",
]
