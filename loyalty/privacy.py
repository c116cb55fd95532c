"""What loyalty holds about a person: their part of the data export and of erasure, both
registered with ``customers`` in ``LoyaltyConfig.ready``."""

from django.utils import timezone

from customers.models import Customer
from loyalty.models import Card

ERASED_CARD_REASON = "Customer's data erased"


def erase_loyalty_personal_data(*, customer: Customer) -> None:
    """The account and its points ledger stay (the law requires the ledger; entries hold
    amounts, order numbers and rules). Cards stop working (their numbers no longer find
    anyone once the identities are gone) and lose the free-text reason staff gave for
    blocking them. A card number is never issued again, so the numbers stay."""
    cards = Card.objects.filter(account__customer=customer)
    cards.filter(status=Card.Status.ACTIVE).update(
        status=Card.Status.BLOCKED, blocked_at=timezone.now()
    )
    cards.update(blocked_reason=ERASED_CARD_REASON)
