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
from orders.services.fulfilment import (
    cancel_order,
    collect_pickup,
    expire_uncollected_pickups,
    mark_delivered,
    mark_ready_for_pickup,
    pickup_code_attempts_left,
    send_pickup_reminders,
    ship,
    unlock_pickup_code,
)
from orders.services.returns import ReturnedItem, return_items

__all__ = [
    "Address",
    "CheckoutResult",
    "ReturnedItem",
    "cancel_order",
    "cart_of",
    "checkout",
    "choose_pickup_store",
    "collect_pickup",
    "expire_uncollected_pickups",
    "keep_holds_alive",
    "mark_delivered",
    "mark_ready_for_pickup",
    "merge_guest_cart",
    "pickup_code_attempts_left",
    "remove_line",
    "return_items",
    "send_pickup_reminders",
    "set_line",
    "ship",
    "unlock_pickup_code",
]
