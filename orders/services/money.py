"""Money of an order, tender by tender: capture when the goods leave, void when nothing will,
and give back part of it (a return, a line no location could ship). Each runs in the caller's
transaction, with the order locked.

Two kinds of tender: the payment provider's (authorised at checkout, captured later) and a
stored-value card (its money left the card's balance at checkout, so "authorised" means held
by the shop: capturing moves nothing, and whatever is released or refunded goes straight back
onto the card's ledger).
"""

from decimal import ROUND_HALF_UP, Decimal

from loyalty import services as loyalty
from orders.locks import lock_payments
from orders.models import Order, Payment
from orders.payments import payment_provider

S = Payment.Status
CENT = Decimal("0.01")


def capture(order: Order) -> None:
    """Capture what is authorised, less what was released (lines cancelled before shipping)."""
    provider = payment_provider()
    for payment in lock_payments(order, statuses=[S.AUTHORIZED]):
        due = payment.amount - payment.released
        if due > 0 and payment.card_id is None:
            provider.capture(payment_reference=payment.reference, amount=due)
        payment.status = S.CAPTURED if due > 0 else S.VOIDED
        payment.save(update_fields=["status", "updated_at"])


def void(order: Order) -> None:
    """Nothing of the order will be charged: drop every authorisation still held (a card's
    held money goes back onto the card)."""
    provider = payment_provider()
    for payment in lock_payments(order, statuses=[S.AUTHORIZED]):
        if payment.card_id is None:
            provider.void(payment_reference=payment.reference)
        else:
            _back_to_card(payment, payment.amount - payment.released, why="void")
            payment.released = payment.amount
        payment.status = S.VOIDED
        payment.save(update_fields=["released", "status", "updated_at"])


def give_back(order: Order, amount: Decimal) -> None:
    """Give ``amount`` back to the customer, each tender its share of what it paid (a split
    payment refunds to the card what the card paid): refunded where it was captured, released
    from the authorisation where it was not yet (so it is never captured; an authorisation
    released in full is voided)."""
    payments = lock_payments(order, statuses=[S.AUTHORIZED, S.CAPTURED, S.REFUNDED])
    for payment, portion in _shares(payments, amount):
        _give_back_from(payment, portion)


def _left(payment: Payment) -> Decimal:
    return payment.amount - payment.released - payment.refunded


def _shares(payments: list[Payment], amount: Decimal) -> list[tuple[Payment, Decimal]]:
    """``amount`` split over the tenders in proportion to what each paid, never more than a
    tender has left; what rounding or a spent tender leaves over goes to the next, oldest
    first."""
    live = [payment for payment in payments if _left(payment) > 0]
    paid = sum((payment.amount for payment in live), Decimal(0))
    if not live or amount <= 0 or paid <= 0:
        return []
    shares = [
        min((amount * payment.amount / paid).quantize(CENT, ROUND_HALF_UP), _left(payment))
        for payment in live
    ]
    over = amount - sum(shares, Decimal(0))
    for index, payment in enumerate(live):
        if over <= 0:
            break
        more = min(over, _left(payment) - shares[index])
        shares[index] += more
        over -= more
    return [(payment, share) for payment, share in zip(live, shares, strict=True) if share > 0]


def _give_back_from(payment: Payment, portion: Decimal) -> None:
    if payment.status == S.AUTHORIZED:
        payment.released += portion
        if payment.card_id is not None:
            _back_to_card(payment, portion, why="release")
        if payment.released == payment.amount:
            if payment.card_id is None:
                payment_provider().void(payment_reference=payment.reference)
            payment.status = S.VOIDED
    else:
        if payment.card_id is None:
            payment_provider().refund(payment_reference=payment.reference, amount=portion)
        else:
            _back_to_card(payment, portion, why="refund")
        payment.refunded += portion
        payment.status = S.REFUNDED
    payment.save(update_fields=["released", "refunded", "status", "updated_at"])


def _back_to_card(payment: Payment, amount: Decimal, *, why: str) -> None:
    """Money a card paid goes back onto it (or its replacement), once per state of the
    payment: the key names what had already gone back before this."""
    if amount <= 0 or payment.card is None:
        return
    given_before = payment.released + payment.refunded
    loyalty.refund_to_stored_value(
        card=payment.card,
        amount=amount,
        reference=payment.order.number,
        source="order",
        reason=why,
        idempotency_key=f"payment:{payment.pk}:{why}:{given_before}",
    )
