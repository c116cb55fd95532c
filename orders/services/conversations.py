"""The orders a service conversation is about: links checked against the conversation's
customer, and the integrating tool's inbound messages that name orders."""

from collections.abc import Iterable

from django.db import transaction

from customers import services as customer_services
from customers.models import Conversation, Customer
from omni.core.errors import InvalidInput
from orders.models import ConversationOrder, Order


def _orders_of(customer: Customer, numbers: Iterable[str]) -> list[Order]:
    """The customer's orders with these numbers; any other number (unknown, or another
    customer's: the caller is not told which) is ``InvalidInput`` naming it."""
    wanted = list(dict.fromkeys(number.strip().upper() for number in numbers if number.strip()))
    found = {
        order.number: order for order in Order.objects.filter(customer=customer, number__in=wanted)
    }
    missing = [number for number in wanted if number not in found]
    if missing:
        raise InvalidInput(
            f"{', '.join(missing)}: not an order of this customer.",
            details={"order_numbers": missing},
        )
    return [found[number] for number in wanted]


@transaction.atomic
def link_conversation_orders(
    *, conversation: Conversation, numbers: Iterable[str]
) -> list[ConversationOrder]:
    """Say which of the customer's orders the conversation is about; linking one again
    changes nothing. A number that is not the customer's links none of them."""
    links = []
    for order in _orders_of(conversation.customer, numbers):
        link, _ = ConversationOrder.objects.get_or_create(conversation=conversation, order=order)
        links.append(link)
    return links


@transaction.atomic
def receive_support_message(
    *,
    customer: Customer,
    channel: str,
    body: str,
    external_id: str = "",
    conversation_id: str = "",
    thread_id: str = "",
    subject: str = "",
    order_numbers: Iterable[str] = (),
) -> customer_services.Received:
    """``customers.services.receive_message``, with the orders the message is about linked
    to its conversation. The numbers are checked first: a wrong one records nothing."""
    numbers = list(order_numbers)
    _orders_of(customer, numbers)
    received = customer_services.receive_message(
        customer=customer,
        channel=channel,
        body=body,
        external_id=external_id,
        conversation_id=conversation_id,
        thread_id=thread_id,
        subject=subject,
    )
    if received.created and numbers:
        link_conversation_orders(conversation=received.conversation, numbers=numbers)
    return received
