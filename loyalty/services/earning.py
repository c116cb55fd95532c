"""Earning points: the quote for a basket (base rate, channel, category and tier multipliers,
campaign bonuses), the points for an order (pending until its return window has passed), and
bonuses for actions.

Where no programme is set up yet (a new database, ``setup_loyalty`` not run), earning is a
no-op with a warning in the log: the goods of a collected, delivered or till order still
leave; spending points is refused instead (``NotConfigured``), as there are none to spend."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer
from inventory.models import Category, Sku
from loyalty.models import Account, EarnRule, PointsEntry, Programme
from loyalty.services.ledger import Kind, credit, replay_or_post, require_key
from loyalty.services.programme import current_programme, enrolled_and_locked, is_set_up
from loyalty.services.tiers import evaluate_tier
from omni.core.errors import InvalidRequest

logger = logging.getLogger(__name__)

# --- How many points: quotes -----------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLine:
    """A line of a basket as loyalty sees it: what is paid for it and its category."""

    amount: Decimal
    category_id: int | None = None
    label: str = ""


@dataclass(frozen=True)
class OfferMultiplier:
    """A promotion's points multiplier (an offer of ``campaigns``, priced with the order)."""

    name: str
    multiplier: Decimal


@dataclass
class Quote:
    points: int
    qualifying_amount: Decimal
    explanation: list[dict[str, Any]] = field(default_factory=list)


def _rules_in_force(programme: Programme, at: datetime) -> list[EarnRule]:
    return list(
        programme.rules.filter(is_active=True)
        .filter(Q(starts_at=None) | Q(starts_at__lte=at))
        .filter(Q(ends_at=None) | Q(ends_at__gt=at))
    )


def _category_ancestry(category_ids: set[int]) -> dict[int | None, set[int]]:
    """Each category with all its ancestors, so a rule on Clothing applies to Rain jackets."""
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    ancestry: dict[int | None, set[int]] = {}
    for category_id in category_ids:
        chain: set[int] = set()
        node: int | None = category_id
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
    customer: Customer | None = None,
    campaign_codes: tuple[str, ...] = (),
    at: datetime | None = None,
    offer: OfferMultiplier | None = None,
) -> Quote:
    """The points a basket earns, explained line by line: the base rate times the best channel
    rule, the best category rule, the customer's tier and an offer's multiplier (priced with
    the order), plus campaign bonuses."""
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
    explanation: list[dict[str, Any]] = []
    total = Decimal(0)
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
        if offer and offer.multiplier != 1:
            factors.append({"rule": offer.name, "multiplier": str(offer.multiplier.normalize())})
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


def quote_cart(
    *,
    lines: list[tuple[str, int]],
    channel: str,
    customer: Customer | None = None,
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


# --- Earning ---------------------------------------------------------------------------------


@transaction.atomic
def earn_for_order(
    *,
    customer: Customer,
    reference: str,
    lines: list[QuoteLine],
    channel: str,
    idempotency_key: str,
    campaign_codes: tuple[str, ...] = (),
    source: str = "order",
    offer: OfferMultiplier | None = None,
) -> PointsEntry | None:
    """Points for a collected or delivered order; pending until the return window has passed.
    An erased customer earns nothing: no account, card or identity is made for them again."""
    require_key(idempotency_key)
    if customer.erased_at is not None or not _can_earn(reference):
        return None
    return replay_or_post(
        idempotency_key,
        lock=lambda: enrolled_and_locked(customer),
        post=lambda account: _earn(
            account,
            customer=customer,
            reference=reference,
            lines=lines,
            channel=channel,
            idempotency_key=idempotency_key,
            campaign_codes=campaign_codes,
            source=source,
            offer=offer,
        ),
    )


def _can_earn(reference: str) -> bool:
    """False, with a warning for the operator, while no programme is set up: nothing to earn
    under, and the order or action it is for must not fail for it."""
    if is_set_up():
        return True
    logger.warning(
        "No loyalty programme with tiers is set up: %s earns no points "
        "(run `python manage.py setup_loyalty`).",
        reference,
    )
    return False


def _earn(
    account: Account,
    *,
    customer: Customer,
    reference: str,
    lines: list[QuoteLine],
    channel: str,
    idempotency_key: str,
    campaign_codes: tuple[str, ...],
    source: str,
    offer: OfferMultiplier | None,
) -> PointsEntry | None:
    """Credit the order's points as pending (None when it earns none). The caller holds the
    account's lock."""
    quote = quote_points(
        lines=lines,
        channel=channel,
        customer=customer,
        campaign_codes=campaign_codes,
        offer=offer,
    )
    if quote.points <= 0:
        return None
    entry = credit(
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
    *, customer: Customer, action: str, idempotency_key: str, reference: str = ""
) -> PointsEntry | None:
    """Bonus points for an action (sign-up, first pick-up order, review), available at once.
    Returns None when no rule rewards that action right now."""
    require_key(idempotency_key)
    if not _can_earn(reference or action):
        return None
    return replay_or_post(
        idempotency_key,
        lock=lambda: enrolled_and_locked(customer),
        post=lambda account: _award(
            account, action=action, idempotency_key=idempotency_key, reference=reference
        ),
    )


def _award(
    account: Account, *, action: str, idempotency_key: str, reference: str
) -> PointsEntry | None:
    """Credit the best bonus for ``action`` now (None when no rule rewards it). The caller
    holds the account's lock."""
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
    return credit(
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
