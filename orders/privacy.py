"""What orders hold about a person: their part of the data export and of erasure, both
registered with ``customers`` in ``OrdersConfig.ready``."""

from django.db.models import Q

from customers.models import Customer, Identity
from orders.models import Cart, CartLine, Order, OrderEvent

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
