"""Stored value (gift and wallet cards): issuing, topping up, paying, refunding, adjusting,
blocking, replacing a lost card, and expiring balances as the programme's rules say.

Truths kept here: the balance is the sum of the card's ledger; ``StoredValueCard.balance``
changes in the same transaction as each entry, with the card's row locked
(``loyalty.locks.lock_stored_value_card``), so no payment takes it below zero whichever
channel pays first; money is Decimal in the card's currency; every movement that a client
may retry carries an idempotency key, so a retry changes nothing twice.

Payments through the provider (an online top-up, a gift card bought) are the orders app's
business: it checks here first (``check_top_up``), charges, then credits here.
"""

import calendar
import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.models import Customer
from loyalty.locks import lock_stored_value_card, lock_stored_value_cards
from loyalty.models import StoredValueCard, StoredValueEntry, StoredValueProgramme
from loyalty.services.cards import luhn_check_digit
from omni.core.batches import in_locked_batches
from omni.core.errors import (
    CardBlocked,
    Conflict,
    InsufficientBalance,
    InvalidRequest,
    NotFound,
    PermissionRefused,
)
from omni.core.replay import replay_or_run

STORED_VALUE_PREFIX = "7790"
STORED_VALUE_DIGITS = 19  # 14 random digits: a number nobody guesses at a till or online
STORED_VALUE_PROGRAMME_NAME = "Stored value"
ADJUST_STORED_VALUE = "loyalty.adjust_stored_value"
BLOCK_STORED_VALUE = "loyalty.block_stored_value"
CENT = Decimal("0.01")

Card = StoredValueCard
Entry = StoredValueEntry
SVKind = StoredValueEntry.Kind


# --- Numbers, programme, issuing ----------------------------------------------------------------


def new_stored_value_number() -> str:
    random_digits = STORED_VALUE_DIGITS - len(STORED_VALUE_PREFIX) - 1
    body = STORED_VALUE_PREFIX + "".join(secrets.choice("0123456789") for _ in range(random_digits))
    return body + luhn_check_digit(body)


def normalise_card_number(number: str) -> str:
    """What a clerk typed or a scanner sent, without spaces or dashes."""
    return "".join(ch for ch in number if ch.isdigit())


def stored_value_programme() -> StoredValueProgramme:
    """The shop's stored-value programme, created with its default rules on first use."""
    programme = StoredValueProgramme.objects.order_by("pk").first()
    if programme is None:
        programme, _ = StoredValueProgramme.objects.get_or_create(name=STORED_VALUE_PROGRAMME_NAME)
    return programme


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def issue_stored_value_card(
    *,
    customer: Customer | None = None,
    kind: str = StoredValueCard.Kind.WALLET,
    programme: StoredValueProgramme | None = None,
    recipient_email: str = "",
    gift_message: str = "",
) -> StoredValueCard:
    """A new active card with a fresh number and no money on it (a collision, one in 10^14,
    draws again). Its expiry date follows the programme's ``expiry_months``."""
    programme = programme or stored_value_programme()
    now = timezone.now()
    expires_at = add_months(now, programme.expiry_months) if programme.expiry_months else None
    while True:
        try:
            with transaction.atomic():
                return StoredValueCard.objects.create(
                    number=new_stored_value_number(),
                    programme=programme,
                    kind=kind,
                    currency=programme.currency,
                    customer=customer,
                    issued_at=now,
                    last_used_at=now,
                    expires_at=expires_at,
                    recipient_email=recipient_email,
                    gift_message=gift_message,
                )
        except IntegrityError:
            continue


def stored_value_card_for(number: str) -> StoredValueCard:
    """The card behind a scanned or typed number; a blocked or replaced card is refused."""
    card = StoredValueCard.objects.filter(number=normalise_card_number(number)).first()
    if card is None:
        raise NotFound("No stored-value card has this number.")
    _ensure_usable(card)
    return card


def _ensure_usable(card: StoredValueCard) -> None:
    if card.status == StoredValueCard.Status.REPLACED:
        raise CardBlocked("This card was replaced by a new one; use the new card.")
    if card.status == StoredValueCard.Status.BLOCKED:
        raise CardBlocked("This card is blocked.", details={"reason": card.blocked_reason})


@transaction.atomic
def claim_stored_value_card(*, number: str, customer: Customer) -> StoredValueCard:
    """A gift card received by e-mail joins the customer's wallet (nobody else's, once)."""
    card = stored_value_card_for(number)
    card = lock_stored_value_card(card.pk)
    if card.customer_id not in (None, customer.pk):
        raise Conflict("This card belongs to someone else.")
    if card.customer_id is None:
        card.customer = customer
        card.save(update_fields=["customer"])
    return card


# --- The ledger ---------------------------------------------------------------------------------


def _entry_with_key(idempotency_key: str | None) -> StoredValueEntry | None:
    if not idempotency_key:
        return None
    return StoredValueEntry.objects.filter(idempotency_key=idempotency_key).first()


def _posted(
    idempotency_key: str | None,
    *,
    card: StoredValueCard,
    check: Callable[[StoredValueCard], None],
    post: Callable[[StoredValueCard], StoredValueEntry],
) -> StoredValueEntry:
    """The entry an earlier call with this key wrote, else ``post``'s on the card locked and
    ``check``-ed (a replay is never refused). The caller holds the transaction."""
    locked: list[StoredValueCard] = []

    def lock() -> None:
        fresh = lock_stored_value_card(card.pk)
        check(fresh)
        locked.append(fresh)

    entry, _ = replay_or_run(
        find=lambda: _entry_with_key(idempotency_key),
        lock=lock,
        run=lambda: post(locked[0]),
    )
    return entry


def _write(
    card: StoredValueCard,
    *,
    kind: str,
    amount: Decimal,
    touch: bool = False,
    **fields: object,
) -> StoredValueEntry:
    """An entry and the card's cached balance, together. The caller holds the card's lock
    and has checked that the balance stays at zero or above."""
    card.balance += amount
    update = ["balance"]
    if touch:
        card.last_used_at = timezone.now()
        update.append("last_used_at")
    card.save(update_fields=update)
    return StoredValueEntry.objects.create(
        card=card,
        kind=kind,
        amount=amount,
        currency=card.currency,
        balance_after=card.balance,
        **fields,
    )


def _money(amount: Decimal, currency: str, card: StoredValueCard) -> Decimal:
    if currency and currency != card.currency:
        raise InvalidRequest(
            f"This card holds {card.currency}, not {currency}.",
            details={"card_currency": card.currency},
        )
    if amount != amount.quantize(CENT):
        raise InvalidRequest("Amounts are in whole cents.")
    if amount <= 0:
        raise InvalidRequest("The amount must be positive.")
    return amount


def _check_amount(card: StoredValueCard, amount: Decimal) -> None:
    _money(amount, "", card)


def check_top_up(card: StoredValueCard, amount: Decimal, *, currency: str = "") -> None:
    """Refuse a top-up outside the programme's limits, or one that would take the balance
    over its maximum, or to a card that cannot be used: before anyone is charged."""
    _ensure_usable(card)
    _money(amount, currency, card)
    rules = card.programme
    if not rules.min_top_up <= amount <= rules.max_top_up:
        raise InvalidRequest(
            f"A top-up is between {rules.min_top_up} and {rules.max_top_up} {card.currency}.",
            details={"min": str(rules.min_top_up), "max": str(rules.max_top_up)},
        )
    if card.balance + amount > rules.max_balance:
        raise InvalidRequest(
            f"A card holds at most {rules.max_balance} {card.currency}.",
            details={
                "max_balance": str(rules.max_balance),
                "balance": str(card.balance),
                "room": str(rules.max_balance - card.balance),
            },
        )


@transaction.atomic
def top_up_stored_value(
    *,
    card: StoredValueCard,
    amount: Decimal,
    idempotency_key: str,
    reference: str = "",
    source: str = "",
    channel: str = "",
    actor: User | None = None,
    currency: str = "",
) -> StoredValueEntry:
    """Money onto the card (already paid for: through the provider, or at the till)."""
    if not idempotency_key:
        raise InvalidRequest("An idempotency key is required.")
    return _posted(
        idempotency_key,
        card=card,
        check=lambda fresh: check_top_up(fresh, amount, currency=currency),
        post=lambda fresh: _write(
            fresh,
            kind=SVKind.TOP_UP,
            amount=amount,
            touch=True,
            reference=reference,
            source=source,
            channel=channel,
            actor=actor,
            idempotency_key=idempotency_key,
        ),
    )


def _check_payment(
    card: StoredValueCard, amount: Decimal, currency: str, *, up_to_balance: bool = False
) -> None:
    _ensure_usable(card)
    _money(amount, currency, card)
    if (card.balance <= 0) if up_to_balance else (amount > card.balance):
        raise InsufficientBalance(
            f"The card holds {card.balance} {card.currency}.",
            details={"balance": str(card.balance), "requested": str(amount)},
        )


@transaction.atomic
def pay_with_stored_value(
    *,
    card: StoredValueCard,
    amount: Decimal,
    idempotency_key: str,
    reference: str = "",
    source: str = "order",
    channel: str = "",
    actor: User | None = None,
    currency: str = "",
    up_to_balance: bool = False,
) -> StoredValueEntry:
    """Take ``amount`` off the card, or refuse (nothing taken) if it holds less: the card's
    row is locked, so two payments at the same moment never take it below zero. With
    ``up_to_balance`` (the first tender of a split payment) it takes what the card holds, at
    most ``amount``, as read under the lock; only an empty card is refused. The entry says
    how much was taken."""
    if not idempotency_key:
        raise InvalidRequest("An idempotency key is required.")
    return _posted(
        idempotency_key,
        card=card,
        check=lambda fresh: _check_payment(fresh, amount, currency, up_to_balance=up_to_balance),
        post=lambda fresh: _write(
            fresh,
            kind=SVKind.PAYMENT,
            amount=-min(amount, fresh.balance),
            touch=True,
            reference=reference,
            source=source,
            channel=channel,
            actor=actor,
            idempotency_key=idempotency_key,
        ),
    )


@transaction.atomic
def refund_to_stored_value(
    *,
    card: StoredValueCard,
    amount: Decimal,
    idempotency_key: str,
    reference: str = "",
    source: str = "order",
    reason: str = "",
    actor: User | None = None,
) -> StoredValueEntry:
    """Give money back to the card that paid (a return, a cancelled order, a declined second
    tender). A card replaced since then passes it on to its replacement; a blocked card still
    takes it (the money is the customer's whatever became of the plastic). The maximum
    balance does not apply: this money was on the card before."""
    if not idempotency_key:
        raise InvalidRequest("An idempotency key is required.")
    card = StoredValueCard.objects.get(pk=card.pk)  # as it stands now, not as the caller saw it
    while card.status == StoredValueCard.Status.REPLACED and card.replaced_by_id:
        card = StoredValueCard.objects.get(pk=card.replaced_by_id)
    return _posted(
        idempotency_key,
        card=card,
        check=lambda fresh: _check_amount(fresh, amount),
        post=lambda fresh: _write(
            fresh,
            kind=SVKind.REFUND,
            amount=amount,
            reference=reference,
            source=source,
            reason=reason,
            actor=actor,
            idempotency_key=idempotency_key,
        ),
    )


@transaction.atomic
def adjust_stored_value(
    *,
    card: StoredValueCard,
    amount: Decimal,
    reason: str,
    actor: User,
    idempotency_key: str | None = None,
) -> StoredValueEntry:
    """A correction by staff with ``loyalty.adjust_stored_value``, always with a reason;
    it cannot take the balance below zero."""
    if not actor.has_perm(ADJUST_STORED_VALUE):
        raise PermissionRefused("You may not adjust stored-value balances.")
    if not reason.strip():
        raise InvalidRequest("A manual adjustment needs a reason.")
    if amount == 0 or amount != amount.quantize(CENT):
        raise InvalidRequest("An adjustment moves a non-zero amount in whole cents.")

    def check(fresh: StoredValueCard) -> None:
        if fresh.balance + amount < 0:
            raise InsufficientBalance(
                f"The card holds {fresh.balance} {fresh.currency}.",
                details={"balance": str(fresh.balance)},
            )

    return _posted(
        idempotency_key,
        card=card,
        check=check,
        post=lambda fresh: _write(
            fresh,
            kind=SVKind.ADJUSTMENT,
            amount=amount,
            source="staff",
            reason=reason.strip(),
            actor=actor,
            idempotency_key=idempotency_key,
        ),
    )


# --- Blocking and replacing ---------------------------------------------------------------------


def _check_blocker(actor: User | None) -> None:
    if actor is not None and not actor.has_perm(BLOCK_STORED_VALUE):
        raise PermissionRefused("You may not block or replace stored-value cards.")


@transaction.atomic
def block_stored_value_card(
    *, card: StoredValueCard, reason: str, actor: User | None = None
) -> StoredValueCard:
    """Nothing can be paid with the card any more (lost, stolen); its money stays on it."""
    _check_blocker(actor)
    if not reason.strip():
        raise InvalidRequest("Say why the card is blocked.")
    card = lock_stored_value_card(card.pk)
    if card.status != StoredValueCard.Status.ACTIVE:
        raise InvalidRequest(f"This card is already {card.get_status_display().lower()}.")
    card.status = StoredValueCard.Status.BLOCKED
    card.blocked_at = timezone.now()
    card.blocked_reason = reason.strip()
    card.save(update_fields=["status", "blocked_at", "blocked_reason"])
    return card


@transaction.atomic
def replace_stored_value_card(
    *, card: StoredValueCard, reason: str, actor: User | None = None
) -> StoredValueCard:
    """A lost card's balance moves to a new number in one transaction: the old card is
    marked replaced (nothing can be paid with it) and names the new one; its expiry date
    carries over, so a replacement never extends what the rules allow."""
    _check_blocker(actor)
    if not reason.strip():
        raise InvalidRequest("Say why the card is replaced.")
    old = lock_stored_value_card(card.pk)
    if old.status == StoredValueCard.Status.REPLACED:
        raise InvalidRequest("This card was already replaced.")
    new = issue_stored_value_card(
        customer=old.customer,
        kind=old.kind,
        programme=old.programme,
        recipient_email=old.recipient_email,
    )
    new.expires_at, new.last_used_at = old.expires_at, old.last_used_at
    new.save(update_fields=["expires_at", "last_used_at"])
    new = lock_stored_value_cards([old.pk, new.pk])[new.pk]
    moved = old.balance
    if moved:
        _write(
            old,
            kind=SVKind.TRANSFER_OUT,
            amount=-moved,
            source="staff",
            reference=new.number[-4:],
            reason=reason.strip(),
            actor=actor,
        )
        _write(
            new,
            kind=SVKind.TRANSFER_IN,
            amount=moved,
            source="staff",
            reference=old.number[-4:],
            reason=reason.strip(),
            actor=actor,
        )
    old.status = StoredValueCard.Status.REPLACED
    old.replaced_by = new
    old.blocked_at = old.blocked_at or timezone.now()
    old.blocked_reason = reason.strip()
    old.save(update_fields=["status", "replaced_by", "blocked_at", "blocked_reason"])
    return new


# --- Expiry -------------------------------------------------------------------------------------


def expiring_cards(now: datetime) -> "QuerySet[StoredValueCard]":
    """Cards with money whose balance the programme's rules say has expired: past their
    expiry date, or unused for the programme's inactivity months."""
    due = Q(expires_at__lte=now)
    for programme in StoredValueProgramme.objects.filter(inactivity_months__isnull=False):
        cutoff = add_months(now, -int(programme.inactivity_months or 0))
        due |= Q(programme=programme, last_used_at__lte=cutoff)
    return StoredValueCard.objects.filter(due, balance__gt=0)


def expire_stored_value(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Write off expired balances, a batch of cards per short transaction (the cards locked
    in primary-key order, their entries inserted in one statement). Returns how many cards."""
    now = now or timezone.now()
    locked: dict[int, StoredValueCard] = {}

    def lock(pks: list[int]) -> None:
        locked.clear()
        locked.update(lock_stored_value_cards(pks))

    def process(pks: list[int]) -> int:
        cards = [card for card in locked.values() if card.balance > 0]
        entries = [
            StoredValueEntry(
                card=card,
                kind=SVKind.EXPIRY,
                amount=-card.balance,
                currency=card.currency,
                balance_after=Decimal(0),
                source="task",
                reason="Expired under the programme's rules",
                idempotency_key=f"stored-value-expiry:{card.pk}:{now:%Y%m%d%H%M%S}",
                created_at=now,
            )
            for card in cards
        ]
        StoredValueEntry.objects.bulk_create(entries)
        StoredValueCard.objects.filter(pk__in=[card.pk for card in cards]).update(
            balance=Decimal(0)
        )
        return len(cards)

    ids = expiring_cards(now).order_by("pk").values_list("pk", flat=True)
    return in_locked_batches(ids, lock=lock, process=process, batch_size=batch_size)
