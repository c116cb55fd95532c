"""Every movement of points, each atomic, and the rules that decide how many.

Truths kept here: the balance is the sum of the ledger; ``Account.available``/``pending`` change
in the same transaction as each entry; no call takes available points below zero, because
every debit locks the account row first (``loyalty.locks``); expiry and redemption take the
oldest points first; every call that earns or spends carries an idempotency key, so a retry
changes nothing.

One module per concern: ``programme`` (the programme, its entry tier, setting them up,
enrolling), ``cards``, ``earning`` (quotes, earn rules, orders, bonuses), ``redemption``
(redeem, release, reverse for a return), ``adjustments`` (manual, and the four-eyes approval
of large ones), ``expiry`` (maturing, expiring), ``tiers``; ``ledger`` writes entries, lots
and balances for them all. ``stored_value`` is the gift and wallet cards, with their own money
ledger. Callers import from ``loyalty.services``.
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
from loyalty.services.stored_value import (
    ADJUST_STORED_VALUE,
    BLOCK_STORED_VALUE,
    STORED_VALUE_PREFIX,
    add_months,
    adjust_stored_value,
    block_stored_value_card,
    check_top_up,
    claim_stored_value_card,
    expire_stored_value,
    expiring_cards,
    issue_stored_value_card,
    new_stored_value_number,
    normalise_card_number,
    pay_with_stored_value,
    refund_to_stored_value,
    replace_stored_value_card,
    stored_value_card_for,
    stored_value_programme,
    top_up_stored_value,
)
from loyalty.services.tiers import evaluate_all_tiers, evaluate_tier, qualifying_totals

__all__ = [
    "ADJUST_STORED_VALUE",
    "APPROVE_ADJUSTMENTS",
    "BLOCK_STORED_VALUE",
    "CARD_PREFIX",
    "DEFAULT_PROGRAMME_NAME",
    "DEFAULT_TIERS",
    "STORED_VALUE_PREFIX",
    "YEAR",
    "Kind",
    "OfferMultiplier",
    "ProgrammeSetUp",
    "Quote",
    "QuoteLine",
    "Redemption",
    "TierSpec",
    "account_for_card",
    "add_months",
    "adjust_points",
    "adjust_stored_value",
    "approve_points_adjustment",
    "award_bonus",
    "block_stored_value_card",
    "check_top_up",
    "claim_stored_value_card",
    "current_programme",
    "earn_for_order",
    "enrol",
    "entry_tier",
    "evaluate_all_tiers",
    "evaluate_tier",
    "expire_points",
    "expire_stored_value",
    "expiring_cards",
    "is_set_up",
    "is_valid_card_number",
    "issue_card",
    "issue_stored_value_card",
    "luhn_check_digit",
    "mature_points",
    "needs_approval",
    "new_card_number",
    "new_stored_value_number",
    "normalise_card_number",
    "pay_with_stored_value",
    "qualifying_totals",
    "quote_cart",
    "quote_points",
    "redeem",
    "refund_to_stored_value",
    "reject_points_adjustment",
    "release_redemption",
    "replace_card",
    "replace_stored_value_card",
    "request_points_adjustment",
    "reverse_for_return",
    "set_up_programme",
    "stored_value_card_for",
    "stored_value_programme",
    "top_up_stored_value",
]
