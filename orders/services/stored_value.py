"""Money onto stored-value cards: a top-up paid online through the payment provider or at the
till, and gift cards bought online or sold in store (optionally sent to someone by e-mail).

The card and its ledger are loyalty's (``loyalty.services``); what is paid, and to whom, is
decided here. The rules are checked before anyone is charged, and the charge and the credit
happen in one transaction: if the credit is refused after all (another top-up filled the card
meanwhile), the provider's payment is voided and nothing changes.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from customers.models import Customer, Identity
from customers.services import resolve_customer
from loyalty import services as loyalty
from loyalty.models import StoredValueCard, StoredValueEntry
from omni.core.channels import Channel
from omni.core.errors import DomainError, InvalidRequest
from orders import notifications
from orders.payments import payment_provider


@dataclass(frozen=True)
class TopUp:
    card: StoredValueCard
    entry: StoredValueEntry


def _charge_and_credit(
    *,
    card: StoredValueCard,
    amount: Decimal,
    payment_token: str,
    channel: str,
    idempotency_key: str,
    source: str,
) -> TopUp:
    """Authorise and capture ``amount`` through the provider, then credit the card; a credit
    refused after the charge voids it. A retry with the key gets the first entry, charged
    once."""
    earlier = StoredValueEntry.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:  # a retry: charged once, never refused
        return TopUp(card, earlier)
    loyalty.check_top_up(card, amount)
    provider = payment_provider()
    reference = provider.authorize(
        amount=amount, currency=card.currency, token=payment_token, reference=f"sv:{card.number}"
    )
    try:
        entry = loyalty.top_up_stored_value(
            card=card,
            amount=amount,
            idempotency_key=idempotency_key,
            reference=f"{provider.name}:{reference}",
            source=source,
            channel=channel,
        )
    except DomainError:
        provider.void(payment_reference=reference)
        raise
    provider.capture(payment_reference=reference, amount=amount)
    card.refresh_from_db()
    return TopUp(card, entry)


@transaction.atomic
def top_up_online(
    *,
    card: StoredValueCard,
    amount: Decimal,
    payment_token: str,
    channel: str,
    idempotency_key: str,
) -> TopUp:
    """The customer tops up a card of theirs from the app or the website, paying through the
    provider. Below the programme's minimum, above its maximum, over the card's maximum
    balance, or a blocked card: refused before anything is charged."""
    if not idempotency_key:
        raise InvalidRequest("Send an Idempotency-Key so a retried top-up is safe.")
    return _charge_and_credit(
        card=card,
        amount=amount,
        payment_token=payment_token,
        channel=channel,
        idempotency_key=f"top-up:{card.public_id}:{idempotency_key}",
        source="online",
    )


@transaction.atomic
def top_up_at_till(
    *, card: StoredValueCard, amount: Decimal, clerk: User, idempotency_key: str
) -> TopUp:
    """The clerk takes the money at the till (cash or the till's terminal) and tops up the
    card scanned; the same rules as online."""
    entry = loyalty.top_up_stored_value(
        card=card,
        amount=amount,
        idempotency_key=f"till-top-up:{idempotency_key}",
        source="till",
        channel=Channel.STORE,
        actor=clerk,
    )
    card.refresh_from_db()
    return TopUp(card, entry)


def _recipient(email: str, channel: str) -> Customer:
    """The profile a gift card is sent to: the customer with this address, or a new one."""
    resolution = resolve_customer(
        identities=[(Identity.Kind.EMAIL, email)], channel=channel, cause="gift card"
    )
    return resolution.customer


@transaction.atomic
def buy_gift_card(
    *,
    amount: Decimal,
    payment_token: str,
    channel: str,
    idempotency_key: str,
    buyer: Customer | None = None,
    recipient_email: str = "",
    message: str = "",
) -> TopUp:
    """A gift card bought online: issued, loaded with ``amount`` (the programme's top-up
    limits apply) and paid through the provider; sent by e-mail to ``recipient_email`` (whose
    card it becomes), else kept in the buyer's wallet. A retry gets the first card."""
    if not idempotency_key:
        raise InvalidRequest("Send an Idempotency-Key so a retried purchase is safe.")
    if buyer is None and not recipient_email:
        raise InvalidRequest("Say whom the gift card is for (an e-mail address), or sign in.")
    key = f"gift-card:{buyer.public_id if buyer else 'guest'}:{idempotency_key}"
    earlier = StoredValueEntry.objects.filter(idempotency_key=key).select_related("card").first()
    if earlier is not None:
        return TopUp(earlier.card, earlier)
    owner = _recipient(recipient_email, channel) if recipient_email else buyer
    card = loyalty.issue_stored_value_card(
        customer=owner,
        kind=StoredValueCard.Kind.GIFT,
        recipient_email=recipient_email,
        gift_message=message,
    )
    bought = _charge_and_credit(
        card=card,
        amount=amount,
        payment_token=payment_token,
        channel=channel,
        idempotency_key=key,
        source="gift",
    )
    if recipient_email and owner is not None:
        notifications.gift_card_sent(bought.card, recipient=owner, buyer=buyer)
    return bought


@transaction.atomic
def sell_gift_card_at_till(
    *,
    amount: Decimal,
    clerk: User,
    idempotency_key: str,
    customer: Customer | None = None,
    recipient_email: str = "",
    message: str = "",
) -> TopUp:
    """A gift card sold and activated at the till (paid there): loaded at once, handed over,
    and optionally sent by e-mail too."""
    key = f"till-gift-card:{idempotency_key}"
    earlier = StoredValueEntry.objects.filter(idempotency_key=key).select_related("card").first()
    if earlier is not None:
        return TopUp(earlier.card, earlier)
    owner = _recipient(recipient_email, Channel.STORE) if recipient_email else customer
    card = loyalty.issue_stored_value_card(
        customer=owner,
        kind=StoredValueCard.Kind.GIFT,
        recipient_email=recipient_email,
        gift_message=message,
    )
    entry = loyalty.top_up_stored_value(
        card=card,
        amount=amount,
        idempotency_key=key,
        source="till",
        channel=Channel.STORE,
        actor=clerk,
    )
    card.refresh_from_db()
    if recipient_email and owner is not None:
        notifications.gift_card_sent(card, recipient=owner, buyer=customer)
    return TopUp(card, entry)
