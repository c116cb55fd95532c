"""Every movement of points, each atomic, and the rules that decide how many.

Truths kept here: the balance is the sum of the ledger; ``Account.available``/``pending`` change
in the same transaction as each entry; no call takes available points below zero, because
every debit locks the account row first; expiry and redemption take the oldest points first;
every call that earns or spends carries an idempotency key, so a retry changes nothing.
"""

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import dateformat, timezone

from customers.models import Identity, Notification
from customers.notifications import notify
from customers.services import link_identity, unlink_identity
from inventory.models import Category, Sku
from loyalty.models import (
    Account,
    Card,
    EarnRule,
    PointsAdjustmentRequest,
    PointsEntry,
    PointsLot,
    Programme,
    Tier,
)
from omni.core.errors import (
    CardBlocked,
    Conflict,
    InsufficientPoints,
    InvalidRequest,
    InvalidTransition,
    NotConfigured,
    NotFound,
    PermissionRefused,
)

Kind = PointsEntry.Kind
YEAR = timedelta(days=365)


# --- Programme, accounts and cards -----------------------------------------------------------


def current_programme() -> Programme:
    programme = Programme.objects.order_by("pk").first()
    if programme is None:
        raise NotConfigured("No loyalty programme is set up yet (admin: Loyalty > Programmes).")
    return programme


def entry_tier(programme: Programme) -> Tier:
    tier = programme.tiers.order_by("rank").first()
    if tier is None:
        raise NotConfigured(f"The programme {programme} has no tiers.")
    return tier


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


CARD_PREFIX = "7700"


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


@transaction.atomic
def enrol(*, customer) -> Account:
    """The customer's account, created with a card on first use (safe to call again).
    An erased customer is not enrolled: a new card would identify them again."""
    existing = Account.objects.filter(customer=customer).first()
    if existing:
        return existing
    if customer.erased_at is not None:
        raise Conflict("An erased customer cannot join the loyalty programme.")
    programme = current_programme()
    account, created = Account.objects.get_or_create(
        customer=customer,
        defaults={
            "programme": programme,
            "tier": entry_tier(programme),
            "tier_anniversary": (timezone.now() + YEAR).date(),
        },
    )
    if created:
        issue_card(account)
    return account


def _locked_account(customer) -> Account:
    account = enrol(customer=customer)
    return (
        Account.objects.select_for_update().select_related("programme", "tier").get(pk=account.pk)
    )


def account_for_card(number: str) -> Account:
    """The account behind a scanned card; a blocked card is refused."""
    card = Card.objects.select_related("account").filter(number=number).first()
    if card is None:
        raise NotFound("No loyalty card has this number.")
    if card.status == Card.Status.BLOCKED:
        raise CardBlocked("This card was blocked; ask the customer for their new card.")
    return card.account


@transaction.atomic
def replace_card(*, account: Account, reason: str, actor=None) -> Card:
    """Block the active card (lost, stolen, damaged) and issue a new number; points stay."""
    if not reason.strip():
        raise InvalidRequest("Say why the card is replaced.")
    active = Card.objects.filter(account=account, status=Card.Status.ACTIVE)
    for number in active.values_list("number", flat=True):
        unlink_identity(kind=Identity.Kind.LOYALTY_CARD, value=number)
    active.update(status=Card.Status.BLOCKED, blocked_at=timezone.now(), blocked_reason=reason)
    return issue_card(account)


# --- How many points: quotes -----------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLine:
    """A line of a basket as loyalty sees it: what is paid for it and its category."""

    amount: Decimal
    category_id: int | None = None
    label: str = ""


@dataclass
class Quote:
    points: int
    qualifying_amount: Decimal
    explanation: list[dict] = field(default_factory=list)


def _rules_in_force(programme: Programme, at: datetime) -> list[EarnRule]:
    return list(
        programme.rules.filter(is_active=True)
        .filter(Q(starts_at=None) | Q(starts_at__lte=at))
        .filter(Q(ends_at=None) | Q(ends_at__gt=at))
    )


def _category_ancestry(category_ids: set[int]) -> dict[int, set[int]]:
    """Each category with all its ancestors, so a rule on Clothing applies to Rain jackets."""
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    ancestry = {}
    for category_id in category_ids:
        chain, node = set(), category_id
        while node is not None and node not in chain:
            chain.add(node)
            node = parents.get(node)
        ancestry[category_id] = chain
    return ancestry


def _round(points: Decimal, programme: Programme) -> int:
    mode = ROUND_DOWN if programme.rounding == Programme.Rounding.DOWN else ROUND_HALF_UP
    return int(points.quantize(Decimal(1), rounding=mode))


def quote_points(
    *,
    lines: list[QuoteLine],
    channel: str,
    customer=None,
    campaign_codes: tuple[str, ...] = (),
    at: datetime | None = None,
) -> Quote:
    """The points a basket earns, explained line by line: the base rate times the best channel
    rule, the best category rule and the customer's tier, plus campaign bonuses."""
    at = at or timezone.now()
    programme = current_programme()
    rules = _rules_in_force(programme, at)
    account = Account.objects.filter(customer=customer).select_related("tier").first()
    tier_multiplier = account.tier.earn_multiplier if account else Decimal(1)
    channel_rules = [r for r in rules if r.kind == EarnRule.Kind.CHANNEL_MULTIPLIER]
    channel_rule = max(
        (r for r in channel_rules if r.channel == channel),
        key=lambda r: r.multiplier,
        default=None,
    )
    ancestry = _category_ancestry({line.category_id for line in lines if line.category_id})
    explanation, total = [], Decimal(0)
    for number, line in enumerate(lines):
        if line.amount < 0:
            raise InvalidRequest("A line amount cannot be negative.")
        factors = []
        if channel_rule:
            factors.append({"rule": channel_rule.name, "multiplier": str(channel_rule.multiplier)})
        category_rule = max(
            (
                r
                for r in rules
                if r.kind == EarnRule.Kind.CATEGORY_MULTIPLIER
                and r.category_id in ancestry.get(line.category_id, ())
            ),
            key=lambda r: r.multiplier,
            default=None,
        )
        if category_rule:
            factors.append(
                {"rule": category_rule.name, "multiplier": str(category_rule.multiplier)}
            )
        if account and tier_multiplier != 1:
            factors.append(
                {"rule": f"{account.tier.name} tier", "multiplier": str(tier_multiplier)}
            )
        points = line.amount * programme.points_per_currency_unit
        for factor in factors:
            points *= Decimal(factor["multiplier"])
        total += points
        explanation.append(
            {
                "line": number,
                "label": line.label,
                "amount": str(line.amount),
                "base_rate": str(programme.points_per_currency_unit),
                "factors": factors,
                "points": str(points.normalize()),
            }
        )
    for rule in rules:
        if rule.kind == EarnRule.Kind.CAMPAIGN_BONUS and rule.campaign_code in campaign_codes:
            total += rule.bonus_points
            explanation.append({"rule": rule.name, "bonus": rule.bonus_points})
    qualifying = sum((line.amount for line in lines), Decimal(0))
    return Quote(
        points=_round(total, programme), qualifying_amount=qualifying, explanation=explanation
    )


# --- Writing the ledger ----------------------------------------------------------------------


def _require_key(idempotency_key: str | None) -> None:
    if not idempotency_key:
        raise InvalidRequest("An idempotency key is required.")


def _replay(idempotency_key: str) -> PointsEntry | None:
    return PointsEntry.objects.filter(idempotency_key=idempotency_key).first()


def _add_to_account(account: Account, *, available: int = 0, pending: int = 0) -> None:
    Account.objects.filter(pk=account.pk).update(
        available=F("available") + available, pending=F("pending") + pending
    )
    account.available += available
    account.pending += pending


def _credit(account: Account, entry: PointsEntry, *, pending: bool, now: datetime) -> PointsEntry:
    """Write a crediting entry and the lot that tracks what remains of it."""
    entry.account = account
    entry.save()
    points = entry.available + entry.pending
    matures_at = now + timedelta(days=account.programme.pending_days) if pending else now
    PointsLot.objects.create(
        account=account,
        entry=entry,
        points=points,
        remaining=points,
        is_pending=pending,
        matures_at=matures_at,
        expires_at=matures_at + timedelta(days=account.programme.expiry_days),
    )
    _add_to_account(account, available=entry.available, pending=entry.pending)
    return entry


def _take_from(lots, points: int) -> list[dict]:
    """Take up to ``points`` from ``lots`` in the order given; returns what was taken."""
    taken, changed = [], []
    for lot in lots:
        if points == 0:
            break
        portion = min(lot.remaining, points)
        if portion:
            lot.remaining -= portion
            points -= portion
            taken.append({"lot": lot.pk, "points": portion})
            changed.append(lot)
    PointsLot.objects.bulk_update(changed, ["remaining"])
    return taken


def _available_lots(account: Account):
    """The account's available lots, soonest to expire first, locked."""
    return (
        account.lots.select_for_update()
        .filter(is_pending=False, remaining__gt=0)
        .order_by("expires_at", "pk")
    )


def _total(taken: list[dict]) -> int:
    return sum(t["points"] for t in taken)


@transaction.atomic
def earn_for_order(
    *,
    customer,
    reference: str,
    lines: list[QuoteLine],
    channel: str,
    idempotency_key: str,
    campaign_codes: tuple[str, ...] = (),
    source: str = "order",
) -> PointsEntry | None:
    """Points for a collected or delivered order; pending until the return window has passed.
    An erased customer earns nothing: no account, card or identity is made for them again."""
    _require_key(idempotency_key)
    if customer.erased_at is not None:
        return None
    account = _locked_account(customer)  # a concurrent retry waits here, then sees the first
    replayed = _replay(idempotency_key)
    if replayed:
        return replayed
    quote = quote_points(
        lines=lines, channel=channel, customer=customer, campaign_codes=campaign_codes
    )
    if quote.points <= 0:
        return None
    entry = _credit(
        account,
        PointsEntry(
            kind=Kind.EARN,
            pending=quote.points,
            source=source,
            reference=reference,
            channel=channel,
            qualifying_amount=quote.qualifying_amount,
            explanation=quote.explanation,
            idempotency_key=idempotency_key,
        ),
        pending=True,
        now=timezone.now(),
    )
    evaluate_tier(account)
    return entry


@transaction.atomic
def award_bonus(
    *, customer, action: str, idempotency_key: str, reference: str = ""
) -> PointsEntry | None:
    """Bonus points for an action (sign-up, first pick-up order, review), available at once.
    Returns None when no rule rewards that action right now."""
    _require_key(idempotency_key)
    account = _locked_account(customer)  # a concurrent retry waits here, then sees the first
    replayed = _replay(idempotency_key)
    if replayed:
        return replayed
    rule = max(
        (
            r
            for r in _rules_in_force(account.programme, timezone.now())
            if r.kind == EarnRule.Kind.ACTION_BONUS and r.action == action
        ),
        key=lambda r: r.bonus_points,
        default=None,
    )
    if rule is None:
        return None
    return _credit(
        account,
        PointsEntry(
            kind=Kind.BONUS,
            available=rule.bonus_points,
            source="action",
            reference=reference or action,
            explanation=[{"rule": rule.name, "bonus": rule.bonus_points}],
            idempotency_key=idempotency_key,
        ),
        pending=False,
        now=timezone.now(),
    )


@dataclass(frozen=True)
class Redemption:
    entry: PointsEntry
    points: int
    value: Decimal


def _redemption(entry: PointsEntry, programme: Programme) -> Redemption:
    points = -entry.available
    return Redemption(entry=entry, points=points, value=points * programme.point_value)


@transaction.atomic
def redeem(
    *,
    points: int,
    reference: str,
    source: str,
    idempotency_key: str,
    customer=None,
    card_number: str | None = None,
    channel: str = "",
    actor=None,
) -> Redemption:
    """Spend available points as a discount. Whichever channel redeems first wins: the account
    row is locked, so two redemptions can never take the balance below zero."""
    _require_key(idempotency_key)
    replayed = _replay(idempotency_key)
    if replayed:
        return _redemption(replayed, replayed.account.programme)
    if card_number:
        customer = account_for_card(card_number).customer
    if customer is None:
        raise InvalidRequest("Say whose points to redeem (customer or card).")
    if points <= 0:
        raise InvalidRequest("Redeem a positive number of points.")
    account = _locked_account(customer)
    replayed = _replay(idempotency_key)  # a concurrent retry that won the lock first
    if replayed:
        return _redemption(replayed, account.programme)
    if points < account.programme.minimum_redemption:
        raise InvalidRequest(
            f"At least {account.programme.minimum_redemption} points are redeemed at a time.",
            details={"minimum": account.programme.minimum_redemption},
        )
    if points > account.available:
        raise InsufficientPoints(
            f"Only {account.available} points are available.",
            details={"available": account.available, "requested": points},
        )
    taken = _take_from(_available_lots(account), points)
    entry = PointsEntry.objects.create(
        account=account,
        kind=Kind.REDEEM,
        available=-points,
        source=source,
        reference=reference,
        channel=channel,
        explanation=taken,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    _add_to_account(account, available=-points)
    return _redemption(entry, account.programme)


@transaction.atomic
def release_redemption(*, redemption_key: str) -> PointsEntry:
    """Give back a redemption's points (its order was cancelled), to the very lots they came
    from, so their expiry dates are unchanged. Releasing twice changes nothing."""
    redemption = PointsEntry.objects.filter(
        idempotency_key=redemption_key, kind=Kind.REDEEM
    ).first()
    if redemption is None:
        raise NotFound("No redemption has this key.")
    release_key = f"release:{redemption_key}"
    replayed = PointsEntry.objects.filter(idempotency_key=release_key).first()
    if replayed:
        return replayed
    account = Account.objects.select_for_update().get(pk=redemption.account_id)
    lots = PointsLot.objects.select_for_update().in_bulk([t["lot"] for t in redemption.explanation])
    for taken in redemption.explanation:
        lots[taken["lot"]].remaining += taken["points"]
    PointsLot.objects.bulk_update(lots.values(), ["remaining"])
    entry = PointsEntry.objects.create(
        account=account,
        kind=Kind.RELEASE,
        available=-redemption.available,
        source=redemption.source,
        reference=redemption.reference,
        explanation=redemption.explanation,
        idempotency_key=release_key,
    )
    _add_to_account(account, available=-redemption.available)
    return entry


@transaction.atomic
def reverse_for_return(
    *, customer, reference: str, returned_amount: Decimal, idempotency_key: str
) -> PointsEntry | None:
    """Take back the points an order earned, in proportion to what was returned: first from
    that order's own earning (pending or not), then from the oldest available points, never
    below zero. The returned spend no longer counts towards tiers."""
    _require_key(idempotency_key)
    account = _locked_account(customer)  # a concurrent retry waits here, then sees the first
    replayed = _replay(idempotency_key)
    if replayed:
        return replayed
    earned = account.entries.filter(kind=Kind.EARN, reference=reference)
    totals = earned.aggregate(points=Sum("pending"), spend=Sum("qualifying_amount"))
    if not totals["points"]:
        return None
    reversed_before = -(
        account.entries.filter(kind=Kind.REVERSE, reference=reference).aggregate(
            points=Sum(F("available") + F("pending"))
        )["points"]
        or 0
    )
    share = min(returned_amount / totals["spend"], Decimal(1)) if totals["spend"] else Decimal(1)
    due = min(
        int((totals["points"] * share).quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        totals["points"] - reversed_before,
    )
    if due <= 0:
        return None
    own_lots = list(PointsLot.objects.select_for_update().filter(entry__in=earned).order_by("pk"))
    from_pending = _take_from([lot for lot in own_lots if lot.is_pending], due)
    # What the order's own pending points don't cover comes from available points, the
    # order's own first, then the oldest, but never more than the account has.
    still_due = min(due - _total(from_pending), account.available)
    from_available = _take_from([lot for lot in own_lots if not lot.is_pending], still_due)
    from_available += _take_from(_available_lots(account), still_due - _total(from_available))
    if not from_pending and not from_available:
        return None
    entry = PointsEntry.objects.create(
        account=account,
        kind=Kind.REVERSE,
        available=-_total(from_available),
        pending=-_total(from_pending),
        source="return",
        reference=reference,
        qualifying_amount=-min(returned_amount, totals["spend"]),
        explanation=[{"due": due, "from_pending": from_pending, "from_available": from_available}],
        idempotency_key=idempotency_key,
    )
    _add_to_account(account, available=entry.available, pending=entry.pending)
    return entry


@transaction.atomic
def adjust_points(
    *, account: Account, points: int, reason: str, actor=None, idempotency_key: str | None = None
) -> PointsEntry:
    """A manual correction by staff, always with a reason; it cannot go below zero."""
    if idempotency_key:
        replayed = PointsEntry.objects.filter(idempotency_key=idempotency_key).first()
        if replayed:
            return replayed
    if not reason.strip():
        raise InvalidRequest("A manual adjustment needs a reason.")
    if points == 0:
        raise InvalidRequest("An adjustment moves at least one point.")
    account = Account.objects.select_for_update().select_related("programme").get(pk=account.pk)
    entry = PointsEntry(
        kind=Kind.ADJUST,
        available=points,
        source="staff",
        reason=reason,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    if points > 0:
        return _credit(account, entry, pending=False, now=timezone.now())
    if -points > account.available:
        raise InsufficientPoints(
            f"Only {account.available} points are available to take away.",
            details={"available": account.available},
        )
    entry.explanation = _take_from(_available_lots(account), -points)
    entry.account = account
    entry.save()
    _add_to_account(account, available=points)
    return entry


# --- Large adjustments: four eyes ---------------------------------------------------------

APPROVE_ADJUSTMENTS = "loyalty.approve_points_adjustment"


def _check_adjustment(*, account: Account, points: int, reason: str) -> None:
    if not reason.strip():
        raise InvalidRequest("A manual adjustment needs a reason.")
    if points == 0:
        raise InvalidRequest("An adjustment moves at least one point.")
    if -points > account.available:
        raise InsufficientPoints(
            f"Only {account.available} points are available to take away.",
            details={"available": account.available},
        )


def needs_approval(account: Account, points: int) -> bool:
    """More points than the programme lets one person move, either way."""
    return abs(points) > account.programme.adjustment_approval_threshold


@transaction.atomic
def request_points_adjustment(
    *, account: Account, points: int, reason: str, requested_by
) -> PointsEntry | PointsAdjustmentRequest:
    """A manual adjustment asked for by a member of staff: posted at once (the ledger entry is
    returned) when within the programme's ``adjustment_approval_threshold``, otherwise kept as
    a pending ``PointsAdjustmentRequest`` that changes no balance until another person
    approves it."""
    account = Account.objects.select_for_update().select_related("programme").get(pk=account.pk)
    _check_adjustment(account=account, points=points, reason=reason)
    if not needs_approval(account, points):
        return adjust_points(account=account, points=points, reason=reason, actor=requested_by)
    return PointsAdjustmentRequest.objects.create(
        account=account, points=points, reason=reason.strip(), requested_by=requested_by
    )


def _locked_request(adjustment: PointsAdjustmentRequest) -> PointsAdjustmentRequest:
    return PointsAdjustmentRequest.objects.select_for_update().get(pk=adjustment.pk)


def _check_decider(adjustment: PointsAdjustmentRequest, user) -> None:
    if not user.has_perm(APPROVE_ADJUSTMENTS):
        raise PermissionRefused("You may not approve or reject points adjustments.")
    if user.pk == adjustment.requested_by_id:
        raise InvalidRequest(
            "You asked for this adjustment: another person must approve or reject it."
        )


@transaction.atomic
def approve_points_adjustment(*, adjustment: PointsAdjustmentRequest, approver) -> PointsEntry:
    """Post a pending adjustment through the ledger, once: the request row is locked, and the
    entry carries the request's idempotency key, so approving again (or two approvers at the
    same moment) returns the one entry. Refused to its requester and to anyone without
    ``loyalty.approve_points_adjustment``; a taking-away that the balance no longer covers
    is refused and stays pending."""
    adjustment = _locked_request(adjustment)
    _check_decider(adjustment, approver)
    if adjustment.status == PointsAdjustmentRequest.Status.APPROVED:
        return adjustment.entry
    if adjustment.status != PointsAdjustmentRequest.Status.PENDING:
        raise InvalidTransition("This adjustment was rejected; ask for a new one.")
    entry = adjust_points(
        account=adjustment.account,
        points=adjustment.points,
        reason=adjustment.reason,
        actor=adjustment.requested_by,
        idempotency_key=f"points-adjustment-request:{adjustment.pk}",
    )
    adjustment.status = PointsAdjustmentRequest.Status.APPROVED
    adjustment.decided_by = approver
    adjustment.decided_at = timezone.now()
    adjustment.entry = entry
    adjustment.save(update_fields=["status", "decided_by", "decided_at", "entry"])
    return entry


@transaction.atomic
def reject_points_adjustment(
    *, adjustment: PointsAdjustmentRequest, approver
) -> PointsAdjustmentRequest:
    """Close a pending adjustment without moving a point (same deciders as approval)."""
    adjustment = _locked_request(adjustment)
    _check_decider(adjustment, approver)
    if adjustment.status != PointsAdjustmentRequest.Status.PENDING:
        raise InvalidTransition(
            f"This adjustment is already {adjustment.get_status_display().lower()}."
        )
    adjustment.status = PointsAdjustmentRequest.Status.REJECTED
    adjustment.decided_by = approver
    adjustment.decided_at = timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])
    return adjustment


# --- Scheduled: maturing and expiring --------------------------------------------------------


def _settle_lots(lots_query, *, kind: str, now: datetime, batch_size: int) -> int:
    """Move due lots in batches of accounts: lock the accounts (pk order), write one entry per
    account, update the lots and the cached balances. Returns the points moved."""
    moved = 0
    while True:
        with transaction.atomic():
            account_ids = list(
                lots_query.values_list("account_id", flat=True)
                .distinct()
                .order_by("account_id")[:batch_size]
            )
            if not account_ids:
                return moved
            list(Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk"))
            due = lots_query.filter(account_id__in=account_ids)
            per_account = dict(
                due.values("account_id")
                .annotate(points=Sum("remaining"))
                .values_list("account_id", "points")
            )
            if kind == Kind.MATURE:
                due.update(is_pending=False)
                entries = [
                    PointsEntry(account_id=pk, kind=kind, pending=-p, available=p, source="task")
                    for pk, p in per_account.items()
                ]
                pending_change = _per_account_case({pk: -p for pk, p in per_account.items()})
                available_change = _per_account_case(per_account)
            else:
                due.update(remaining=0)
                entries = [
                    PointsEntry(account_id=pk, kind=kind, available=-p, source="task")
                    for pk, p in per_account.items()
                    if p
                ]
                pending_change = Value(0)
                available_change = _per_account_case({pk: -p for pk, p in per_account.items()})
            PointsEntry.objects.bulk_create(entries)
            Account.objects.filter(pk__in=per_account).update(
                available=F("available") + available_change,
                pending=F("pending") + pending_change,
            )
            moved += sum(per_account.values())


def _per_account_case(values: dict[int, int]) -> Case:
    return Case(
        *[When(pk=pk, then=Value(v)) for pk, v in values.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def mature_points(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Pending points whose return window has passed become available."""
    now = now or timezone.now()
    due = PointsLot.objects.filter(is_pending=True, matures_at__lte=now)
    return _settle_lots(due, kind=Kind.MATURE, now=now, batch_size=batch_size)


def expire_points(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Available points past their expiry date are gone (oldest first, by construction)."""
    now = now or timezone.now()
    due = PointsLot.objects.filter(is_pending=False, remaining__gt=0, expires_at__lte=now)
    return _settle_lots(due, kind=Kind.EXPIRE, now=now, batch_size=batch_size)


# --- Tiers -----------------------------------------------------------------------------------


def qualifying_totals(account_ids: list[int], *, now: datetime, basis: str) -> dict[int, Decimal]:
    """Qualifying spend (or points earned) over the last 12 months, for many accounts at once."""
    window = PointsEntry.objects.filter(account_id__in=account_ids, created_at__gt=now - YEAR)
    if basis == Programme.TierBasis.SPEND:
        measure = Sum("qualifying_amount")
    else:
        window = window.filter(kind__in=[Kind.EARN, Kind.BONUS, Kind.REVERSE])
        measure = Sum(F("available") + F("pending"))
    rows = window.values("account_id").annotate(total=measure).values_list("account_id", "total")
    totals = {pk: Decimal(0) for pk in account_ids}
    totals.update({pk: Decimal(total or 0) for pk, total in rows})
    return totals


def _tier_for(tiers: list[Tier], total: Decimal) -> Tier:
    return max((t for t in tiers if t.threshold <= total), key=lambda t: t.rank, default=tiers[0])


def evaluate_tier(account: Account, *, now: datetime | None = None) -> Tier:
    """Upgrade at once when the customer qualifies; a downgrade waits for the anniversary."""
    now = now or timezone.now()
    tiers = list(account.programme.tiers.order_by("rank"))
    total = qualifying_totals([account.pk], now=now, basis=account.programme.tier_basis)[account.pk]
    target = _tier_for(tiers, total)
    changed = _apply_tier(account, target, now.date())
    if changed:
        account.save(update_fields=["tier", "tier_anniversary"])
    return account.tier


def _apply_tier(account: Account, target: Tier, today) -> bool:
    current = account.tier
    if target.rank > current.rank or (
        target.rank < current.rank and today >= account.tier_anniversary
    ):
        account.tier = target
        account.tier_anniversary = today + YEAR
        return True
    if today >= account.tier_anniversary:  # kept the tier for another year
        account.tier_anniversary = today + YEAR
        return True
    return False


def evaluate_all_tiers(*, now: datetime | None = None, batch_size: int = 2000) -> int:
    """The nightly run: every account, in batches, one aggregate query per batch."""
    now = now or timezone.now()
    changed_count = 0
    programmes = {p.pk: p for p in Programme.objects.prefetch_related("tiers")}
    last_pk = 0
    while True:
        batch = list(
            Account.objects.filter(pk__gt=last_pk)
            .select_related("tier")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return changed_count
        last_pk = batch[-1].pk
        by_programme = defaultdict(list)
        for account in batch:
            by_programme[account.programme_id].append(account)
        changed = []
        for programme_id, accounts in by_programme.items():
            programme = programmes[programme_id]
            tiers = sorted(programme.tiers.all(), key=lambda t: t.rank)
            totals = qualifying_totals(
                [a.pk for a in accounts], now=now, basis=programme.tier_basis
            )
            changed += [
                a for a in accounts if _apply_tier(a, _tier_for(tiers, totals[a.pk]), now.date())
            ]
        with transaction.atomic():
            Account.objects.bulk_update(changed, ["tier", "tier_anniversary"])
        changed_count += len(changed)


def quote_cart(
    *,
    lines: list[tuple[str, int]],
    channel: str,
    customer=None,
    campaign_codes: tuple[str, ...] = (),
) -> Quote:
    """A quote for (SKU code, quantity) lines at today's prices; unknown SKUs are refused."""
    codes = [code for code, _ in lines]
    skus = {
        sku.code: sku
        for sku in Sku.objects.filter(code__in=codes, is_active=True).select_related("product")
    }
    unknown = sorted(set(codes) - set(skus))
    if unknown:
        raise InvalidRequest(
            f"Unknown or inactive SKU: {', '.join(unknown)}.", details={"unknown_skus": unknown}
        )
    return quote_points(
        lines=[
            QuoteLine(skus[code].price * quantity, skus[code].product.category_id, code)
            for code, quantity in lines
        ],
        channel=channel,
        customer=customer,
        campaign_codes=campaign_codes,
    )


# --- Expiry notices --------------------------------------------------------------------------

EXPIRY_NOTICE_TOPIC = "loyalty.points_expiring"


def _lots_due_for_notice(now: datetime):
    """Available points that expire within their programme's notice period and nobody was told
    about yet. A programme with ``expiry_notice_days`` 0 sends no notices."""
    windows = Q()
    for programme_id, days in Programme.objects.filter(expiry_notice_days__gt=0).values_list(
        "pk", "expiry_notice_days"
    ):
        windows |= Q(account__programme_id=programme_id, expires_at__lte=now + timedelta(days=days))
    if not windows:
        return PointsLot.objects.none()
    return PointsLot.objects.filter(
        windows, is_pending=False, remaining__gt=0, expires_at__gt=now, expiry_notice_sent_at=None
    )


def _expiry_notice(account: Account, expiring: list[dict]) -> tuple[str, str, dict]:
    total = sum(row["points"] for row in expiring)
    first_date = dateformat.format(expiring[0]["expires_on"], "j F Y")
    lines = "\n".join(
        f"  - {row['points']} points on {dateformat.format(row['expires_on'], 'j F Y')}"
        for row in expiring
    )
    subject = f"{total} of your points expire on {first_date}"
    body = (
        f"Hello {account.customer.first_name or 'there'},\n\n"
        f"{total} of your {account.programme.name} points will expire if you don't use them:\n\n"
        f"{lines}\n\n"
        f"You have {account.available} points available today. Spend them in any of our stores, "
        "on the website or in the app before they expire.\n"
    )
    context = {
        "programme": account.programme.name,
        "points": total,
        "available": account.available,
        "expiring": [
            {"date": row["expires_on"].isoformat(), "points": row["points"]} for row in expiring
        ],
    }
    return subject, body, context


def send_expiry_notices(*, now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Tell every member whose available points expire within ``expiry_notice_days``: one
    e-mail per account per run, listing the points by expiry date. Each lot is told about once
    (``expiry_notice_sent_at``); pending points are not, until they become available.

    Consent: the programme promises the notice only to members who agreed to hear from it, so
    it goes as a *marketing* e-mail: ``customers.notifications.notify`` suppresses it without
    current e-mail marketing consent, for an erased customer or one without an e-mail address,
    and records why; the lots are marked all the same, so a suppressed notice is not recorded
    again every day.

    Reads are set-based: per batch of accounts (locked in pk order, like expiry, so points
    cannot move underneath), one grouped query gives the points per account and expiry date;
    the lots are marked with one UPDATE in the same transaction as the notices, so a failed
    run leaves nothing half done and the e-mails leave only after it commits.
    Returns how many notices were queued and how many suppressed.
    """
    now = now or timezone.now()
    due = _lots_due_for_notice(now)
    counts = {Notification.Status.QUEUED.value: 0, Notification.Status.SUPPRESSED.value: 0}
    while True:
        with transaction.atomic():
            account_ids = list(
                due.values_list("account_id", flat=True)
                .distinct()
                .order_by("account_id")[:batch_size]
            )
            if not account_ids:
                return counts
            accounts = Account.objects.select_for_update(of=("self",)).select_related(
                "customer", "programme"
            )
            accounts = {a.pk: a for a in accounts.filter(pk__in=account_ids).order_by("pk")}
            batch = due.filter(account_id__in=account_ids)
            expiring = defaultdict(list)
            for row in (
                batch.annotate(expires_on=TruncDate("expires_at"))
                .values("account_id", "expires_on")
                .annotate(points=Sum("remaining"), last_lot=Max("pk"))
                .order_by("account_id", "expires_on")
            ):
                expiring[row["account_id"]].append(row)
            for account_id, rows in expiring.items():
                account = accounts[account_id]
                subject, body, context = _expiry_notice(account, rows)
                last_lot = max(row["last_lot"] for row in rows)
                notice = notify(
                    customer=account.customer,
                    topic=EXPIRY_NOTICE_TOPIC,
                    channel=Notification.Channel.EMAIL,
                    kind=Notification.Kind.MARKETING,
                    subject=subject,
                    body=body,
                    context=context,
                    # The lots of two notices never overlap, so the newest lot makes it unique.
                    idempotency_key=f"loyalty-expiry:{account_id}:{now.date()}:{last_lot}",
                )
                counts[notice.status] = counts.get(notice.status, 0) + 1
            batch.update(expiry_notice_sent_at=now)
