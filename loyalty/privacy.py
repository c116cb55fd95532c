"""What loyalty holds about a person: their part of the data export and of erasure, both
registered with ``customers`` in ``LoyaltyConfig.ready``."""

from typing import Any

from django.utils import timezone

from customers.models import Customer
from loyalty.models import Account, Card, StoredValueCard, StoredValueEntry

# The rows ``export_loyalty`` covers (see ``customers.selectors.register_export_section``).
EXPORTED_MODELS = ("loyalty.Account",)

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


def export_loyalty(*, customer: Customer) -> dict[str, Any] | None:
    """The membership: tier and balance, cards, every points entry and what remains of each
    earning, in 4 queries whatever the history. None for a customer who never joined."""
    account = Account.objects.select_related("programme", "tier").filter(customer=customer).first()
    if account is None:
        return None
    return {
        "programme": account.programme.name,
        "tier": account.tier.name,
        "tier_anniversary": account.tier_anniversary,
        "available": account.available,
        "pending": account.pending,
        "balance": account.balance,
        "joined_at": account.joined_at,
        "cards": list(
            account.cards.order_by("issued_at", "pk").values(
                "number", "status", "issued_at", "blocked_at", "blocked_reason"
            )
        ),
        "points_entries": [
            {**entry, "qualifying_amount": str(entry["qualifying_amount"])}
            for entry in account.entries.order_by("created_at", "pk").values(
                "kind",
                "available",
                "pending",
                "source",
                "reference",
                "channel",
                "qualifying_amount",
                "explanation",
                "reason",
                "created_at",
            )
        ],
        "points_lots": list(
            account.lots.order_by("expires_at", "pk").values(
                "points", "remaining", "is_pending", "matures_at", "expires_at"
            )
        ),
    }


# The rows ``export_stored_value`` covers.
STORED_VALUE_EXPORTED_MODELS = ("loyalty.StoredValueCard",)


def export_stored_value(*, customer: Customer) -> list[dict[str, Any]]:
    """The customer's gift and wallet cards with their whole ledger, in 2 queries."""
    cards = list(
        StoredValueCard.objects.filter(customer=customer)
        .order_by("issued_at", "pk")
        .values("pk", "number", "kind", "status", "currency", "balance", "issued_at", "expires_at")
    )
    entries: dict[int, list[dict[str, Any]]] = {card["pk"]: [] for card in cards}
    for entry in (
        StoredValueEntry.objects.filter(card__in=list(entries))
        .order_by("created_at", "pk")
        .values("card_id", "kind", "amount", "balance_after", "channel", "reference", "created_at")
    ):
        entries[entry["card_id"]].append(
            {
                "kind": entry["kind"],
                "amount": str(entry["amount"]),
                "balance_after": str(entry["balance_after"]),
                "channel": entry["channel"],
                "reference": entry["reference"],
                "created_at": entry["created_at"],
            }
        )
    return [
        {
            **{k: v for k, v in card.items() if k != "pk"},
            "balance": str(card["balance"]),
            "entries": entries[card["pk"]],
        }
        for card in cards
    ]


def erase_stored_value_personal_data(*, customer: Customer) -> None:
    """The cards and their money stay the customer's (a balance is not ours to take); what
    a gift's sender wrote and the recipient's address go."""
    StoredValueCard.objects.filter(customer=customer).update(recipient_email="", gift_message="")
