"""Money of an order through the payment provider: capture when the goods leave, void when
nothing will, and give back part of it (a return, a line no location could ship). Each runs in
the caller's transaction, with the order locked."""

from decimal import Decimal

from orders.locks import lock_payments
from orders.models import Order, Payment
from orders.payments import payment_provider

S = Payment.Status


def capture(order: Order) -> None:
    """Capture what is authorised, less what was released (lines cancelled before shipping)."""
    provider = payment_provider()
    for payment in lock_payments(order, statuses=[S.AUTHORIZED]):
        due = payment.amount - payment.released
        if due > 0:
            provider.capture(payment_reference=payment.reference, amount=due)
        payment.status = S.CAPTURED if due > 0 else S.VOIDED
        payment.save(update_fields=["status", "updated_at"])


def void(order: Order) -> None:
    """Nothing of the order will be charged: drop every authorisation still held."""
    provider = payment_provider()
    for payment in lock_payments(order, statuses=[S.AUTHORIZED]):
        provider.void(payment_reference=payment.reference)
        payment.status = S.VOIDED
        payment.save(update_fields=["status", "updated_at"])


def give_back(order: Order, amount: Decimal) -> None:
    """Give ``amount`` back to the customer, oldest payment first: refunded through the
    provider where it was captured, released from the authorisation where it was not yet (so
    it is never captured; an authorisation released in full is voided)."""
    provider = payment_provider()
    statuses = [S.AUTHORIZED, S.CAPTURED, S.REFUNDED]
    for payment in lock_payments(order, statuses=statuses):
        if amount <= 0:
            return
        portion = min(amount, payment.amount - payment.released - payment.refunded)
        if portion <= 0:
            continue
        if payment.status == S.AUTHORIZED:
            payment.released += portion
            if payment.released == payment.amount:
                provider.void(payment_reference=payment.reference)
                payment.status = S.VOIDED
        else:
            provider.refund(payment_reference=payment.reference, amount=portion)
            payment.refunded += portion
            payment.status = S.REFUNDED
        payment.save(update_fields=["released", "refunded", "status", "updated_at"])
        amount -= portion
