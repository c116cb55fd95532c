"""Every movement of points, each atomic, and the rules that decide how many.

Truths kept here: the balance is the sum of the ledger; ``Account.available``/``pending`` change
in the same transaction as each entry; no call takes available points below zero, because
every debit locks the account row first (``loyalty.locks``); expiry and redemption take the
oldest points first; every call that earns or spends carries an idempotency key, so a retry
changes nothing.

One module per concern: ``programme`` (the programme, its entry tier, setting them up,
enrolling), ``cards``, ``earning`` (quotes, earn rules, orders, bonuses), ``redemption``
(redeem, release, reverse for a return), ``adjustments`` (manual, and the four-eyes approval
of large ones), ``expiry`` (maturing, expiring), ``tiers``; ``ledger`` writes
entries, lots and balances for them all. Callers import from ``loyalty.services``.
"""

from loyalty.services.adjustments import (
    APPROVE_ADJUSTMENTS,
    adjust_points,
    approve_points_adjustment,
    needs_approval,
    reject_points_adjustment,
    request_points_adjustment,
)
from loyalty.services.cards import (
    CARD_PREFIX,
    account_for_card,
    is_valid_card_number,
    issue_card,
    luhn_check_digit,
    new_card_number,
    replace_card,
)
from loyalty.services.earning import (
    OfferMultiplier,
    Quote,
    QuoteLine,
    award_bonus,
    earn_for_order,
    quote_cart,
    quote_points,
)
from loyalty.services.expiry import (
    expire_points,
    mature_points,
)
from loyalty.services.ledger import Kind
from loyalty.services.programme import (
    DEFAULT_PROGRAMME_NAME,
    DEFAULT_TIERS,
    YEAR,
    ProgrammeSetUp,
    TierSpec,
    current_programme,
    enrol,
    entry_tier,
    is_set_up,
    set_up_programme,
)
from loyalty.services.redemption import (
    Redemption,
    redeem,
    release_redemption,
    reverse_for_return,
)
from loyalty.services.tiers import evaluate_all_tiers, evaluate_tier, qualifying_totals

__all__ = [
    "APPROVE_ADJUSTMENTS",
    "CARD_PREFIX",
    "DEFAULT_PROGRAMME_NAME",
    "DEFAULT_TIERS",
    "YEAR",
    "Kind",
    "OfferMultiplier",
    "ProgrammeSetUp",
    "Quote",
    "QuoteLine",
    "Redemption",
    "TierSpec",
    "account_for_card",
    "adjust_points",
    "approve_points_adjustment",
    "award_bonus",
    "current_programme",
    "earn_for_order",
    "enrol",
    "entry_tier",
    "evaluate_all_tiers",
    "evaluate_tier",
    "expire_points",
    "is_set_up",
    "is_valid_card_number",
    "issue_card",
    "luhn_check_digit",
    "mature_points",
    "needs_approval",
    "new_card_number",
    "qualifying_totals",
    "quote_cart",
    "quote_points",
    "redeem",
    "reject_points_adjustment",
    "release_redemption",
    "replace_card",
    "request_points_adjustment",
    "reverse_for_return",
    "set_up_programme",
]
