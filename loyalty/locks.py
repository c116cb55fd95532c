"""Every row lock on loyalty's tables, in one place: the order and the ``of=`` are decided here.

The rule: lock accounts before their lots (or adjustment requests), and several rows of one
table in primary-key order, so two transactions never wait on each other in a circle. Only
the locked table's own rows are locked (``of=("self",)``), never the programme, tier or
customer joined in alongside, so one account's redemption never waits on another's.

Every function must run inside a transaction (the lock lasts until it commits).
"""

from collections.abc import Iterable, Sequence

from django.db.models import QuerySet

from customers.models import Customer
from loyalty.models import (
    Account,
    PointsAdjustmentRequest,
    PointsEntry,
    PointsLot,
    StoredValueCard,
)

OWN_ROWS = ("self",)


def _accounts() -> "QuerySet[Account]":
    return Account.objects.select_for_update(of=OWN_ROWS)


def _lots() -> "QuerySet[PointsLot]":
    return PointsLot.objects.select_for_update(of=OWN_ROWS)


def lock_account(pk: int) -> Account:
    """One account, its programme and tier loaded: every debit and credit holds this lock,
    which is what keeps two channels from spending the same points."""
    return _accounts().select_related("programme", "tier").get(pk=pk)


def lock_accounts(pks: Iterable[int], *, related: Sequence[str] = ()) -> dict[int, Account]:
    """Many accounts by primary key (a batch of the scheduled runs), ``related`` loaded."""
    accounts = _accounts().select_related(*related).filter(pk__in=set(pks)).order_by("pk")
    return {account.pk: account for account in accounts}


def lock_accounts_of(customers: Iterable[Customer]) -> dict[int, Account]:
    """The accounts of these customers (two profiles being merged), by customer id, with
    their tiers."""
    accounts = (
        _accounts()
        .select_related("tier")
        .filter(customer__in=[customer.pk for customer in customers])
        .order_by("pk")
    )
    return {account.customer_id: account for account in accounts}


def lock_available_lots(account: Account) -> list[PointsLot]:
    """The account's lots with available points left, soonest to expire first (the order
    points are taken in). The caller holds the account's lock."""
    lots = _lots().filter(account=account, is_pending=False, remaining__gt=0).order_by("pk")
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.pk))


def lock_lots(pks: Iterable[int]) -> dict[int, PointsLot]:
    """Lots by primary key (those a redemption took from). The caller holds their account's
    lock."""
    return {lot.pk: lot for lot in _lots().filter(pk__in=set(pks)).order_by("pk")}


def lock_lots_of_entries(entries: "QuerySet[PointsEntry]") -> list[PointsLot]:
    """The lots that these crediting entries made (an order's earning). The caller holds
    their account's lock."""
    return list(_lots().filter(entry__in=entries).order_by("pk"))


def lock_adjustment_request(pk: int) -> PointsAdjustmentRequest:
    """A large adjustment waiting for approval: two approvers at once decide it once."""
    return PointsAdjustmentRequest.objects.select_for_update(of=OWN_ROWS).get(pk=pk)


def _stored_value_cards() -> "QuerySet[StoredValueCard]":
    return StoredValueCard.objects.select_for_update(of=OWN_ROWS)


def lock_stored_value_card(pk: int) -> StoredValueCard:
    """One stored-value card, fresh, with its programme: every movement of its money holds
    this lock, which is what keeps two tills (or a till and the app) from spending the same
    balance twice."""
    return _stored_value_cards().select_related("programme").get(pk=pk)


def lock_stored_value_cards(pks: Iterable[int]) -> dict[int, StoredValueCard]:
    """Several cards (a replacement: the old and the new one; a batch of the expiry run), in
    primary-key order, with their programmes."""
    cards = _stored_value_cards().select_related("programme").filter(pk__in=set(pks))
    return {card.pk: card for card in cards.order_by("pk")}
