"""When two customers turn out to be one person, their loyalty accounts become one."""

from django.db.models import F

from customers.models import Customer, Identity
from customers.services import register_merge_handler, unlink_identity
from loyalty.locks import lock_accounts_of
from loyalty.models import Account, Card, PointsAdjustmentRequest, PointsEntry, PointsLot


@register_merge_handler
def merge_loyalty_accounts(*, survivor: Customer, merged: Customer) -> None:
    """Move the merged customer's points history, lots and cards to the survivor's account.

    With one account between them, the customer merge moves it like any other row. With two,
    the balances add up, the better tier stays, and the merged account's active card is
    blocked (the survivor keeps one card); its old number still finds nobody else.
    """
    accounts = lock_accounts_of([survivor, merged])
    keeping, closing = accounts.get(survivor.pk), accounts.get(merged.pk)
    if keeping is None or closing is None:
        return
    closing_cards = Card.objects.filter(account=closing, status=Card.Status.ACTIVE)
    for number in closing_cards.values_list("number", flat=True):
        unlink_identity(kind=Identity.Kind.LOYALTY_CARD, value=number)
    closing_cards.update(
        status=Card.Status.BLOCKED, blocked_reason=f"Merged into {survivor.public_id}"
    )
    Card.objects.filter(account=closing).update(account=keeping)
    PointsEntry.objects.filter(account=closing).update(account=keeping)
    PointsLot.objects.filter(account=closing).update(account=keeping)
    # A large adjustment still waiting (or decided) follows the points it is about.
    PointsAdjustmentRequest.objects.filter(account=closing).update(account=keeping)
    better_tier = max((keeping.tier, closing.tier), key=lambda tier: tier.rank)
    Account.objects.filter(pk=keeping.pk).update(
        available=F("available") + closing.available,
        pending=F("pending") + closing.pending,
        tier=better_tier,
        tier_anniversary=max(keeping.tier_anniversary, closing.tier_anniversary),
    )
    closing.delete()
