"""Loyalty card numbers (16 digits, Luhn-checked), issuing a card, finding the account behind a
scanned one, and blocking a lost card for a new number."""

import secrets

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Identity
from customers.services import link_identity, unlink_identity
from loyalty.models import Account, Card
from omni.core.errors import CardBlocked, InvalidRequest, NotFound

CARD_PREFIX = "7700"


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:  # doubled: these sit left of the check digit at odd distances
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return len(number) == 16 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number() -> str:
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(11))
    return body + luhn_check_digit(body)


def issue_card(account: Account) -> Card:
    """A new active card with a fresh number (a collision, one in 10^11, just draws again),
    recorded as the customer's identity so a scan at any till finds them."""
    while True:
        try:
            with transaction.atomic():
                card = Card.objects.create(account=account, number=new_card_number())
                break
        except IntegrityError:
            if Card.objects.filter(account=account, status=Card.Status.ACTIVE).exists():
                raise
    link_identity(customer=account.customer, kind=Identity.Kind.LOYALTY_CARD, value=card.number)
    return card


def account_for_card(number: str) -> Account:
    """The account behind a scanned card; a blocked card is refused."""
    card = Card.objects.select_related("account").filter(number=number).first()
    if card is None:
        raise NotFound("No loyalty card has this number.")
    if card.status == Card.Status.BLOCKED:
        raise CardBlocked("This card was blocked; ask the customer for their new card.")
    return card.account


@transaction.atomic
def replace_card(*, account: Account, reason: str, actor: User | None = None) -> Card:
    """Block the active card (lost, stolen, damaged) and issue a new number; points stay."""
    if not reason.strip():
        raise InvalidRequest("Say why the card is replaced.")
    active = Card.objects.filter(account=account, status=Card.Status.ACTIVE)
    for number in active.values_list("number", flat=True):
        unlink_identity(kind=Identity.Kind.LOYALTY_CARD, value=number)
    active.update(status=Card.Status.BLOCKED, blocked_at=timezone.now(), blocked_reason=reason)
    return issue_card(account)
