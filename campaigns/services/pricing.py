"""The pricing of offers and coupons: a pure function of the cart, the shopper and the terms
that may apply. No database, no clock: the same input gives the same discounts in every
channel, and the checkout, the cart, the till and the personal offers all call it.

Rounding (money is exact): each reward's discount is computed per line in exact decimals,
its total rounded half-up to the cent, then shared among its lines by the largest remainder
(each line gets its amount rounded down, and the cents left go to the lines with the largest
remainders, ties to the earlier line). So a reward's lines sum exactly to its total, and no
line ever gets more than what is left of it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
STORE_CHANNELS = frozenset({"store"})

# Reward kinds (the values of ``Offer.Reward``; repeated here so the function needs no model).
PERCENT_OFF_CART = "percent_off_cart"
AMOUNT_OFF_CART = "amount_off_cart"
PERCENT_OFF_LINES = "percent_off_lines"
AMOUNT_OFF_LINES = "amount_off_lines"
FREE_ITEM = "free_item"
BUY_X_GET_Y = "buy_x_get_y"
FREE_DELIVERY = "free_delivery"
POINTS_MULTIPLIER = "points_multiplier"


@dataclass(frozen=True)
class Line:
    """A cart line: ``categories`` holds its product's category and every ancestor, so an
    offer on a category reaches its sub-categories."""

    sku: str
    quantity: int
    unit_price: Decimal
    categories: frozenset[int] = frozenset()

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Shopper:
    """What the conditions may ask of the customer (None for a guest). ``segments`` is the
    segments they are a member of, as far as the caller knows."""

    customer_id: int | None = None
    tier_id: int | None = None
    segments: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Terms:
    """One offer, or one presented coupon of a coupon offer, as pricing sees it."""

    ref: str  # "offer:<public id>" or "coupon:<code>": how results name it
    name: str
    reward: str
    value: Decimal = ZERO
    buy_quantity: int = 0
    get_quantity: int = 0
    free_sku: str | None = None
    min_spend: Decimal = ZERO
    skus: frozenset[str] = frozenset()
    categories: frozenset[int] = frozenset()
    channels: frozenset[str] = frozenset()
    stores: frozenset[int] = frozenset()
    tiers: frozenset[int] = frozenset()
    segment: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    redeemable: str = "both"  # both, online, in_store
    exclusive: bool = False
    priority: int = 0
    max_discount: Decimal | None = None

    def targets(self, line: Line) -> bool:
        """Whether the line qualifies (no SKUs nor categories named: every line does)."""
        if not self.skus and not self.categories:
            return True
        return line.sku in self.skus or bool(self.categories & line.categories)


@dataclass(frozen=True)
class Applied:
    """A reward given: its discount in total and per line (by SKU)."""

    ref: str
    name: str
    reward: str
    amount: Decimal
    lines: dict[str, Decimal]


@dataclass(frozen=True)
class Refusal:
    ref: str
    reason: str  # stable: not_started, ended, channel, store, where, tier, segment, ...
    message: str


@dataclass(frozen=True)
class Pricing:
    lines: dict[str, Decimal]  # discount per SKU, all rewards together
    applied: list[Applied] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    free_delivery: bool = False
    points_multiplier: Decimal = Decimal("1")
    points_offer: str = ""  # the name of the offer whose multiplier applies

    @property
    def discount(self) -> Decimal:
        return sum(self.lines.values(), ZERO)

    def refusal_of(self, ref: str) -> Refusal | None:
        return next((r for r in self.refused if r.ref == ref), None)

    @property
    def coupon_refusals(self) -> list[Refusal]:
        """Why presented codes give nothing (automatic offers a cart does not meet are not
        news to the shopper)."""
        return [r for r in self.refused if r.ref.startswith("coupon:")]


def price(
    *,
    lines: Sequence[Line],
    channel: str,
    store_id: int | None,
    shopper: Shopper,
    terms: Iterable[Terms],
    now: datetime,
) -> Pricing:
    """Apply ``terms`` to the cart: those whose conditions fail are refused with the reason;
    the rest in priority order (higher first, then by ``ref``), each on what the earlier ones
    left of every line. An exclusive one is applied alone: first in order, it refuses the
    others; after another, it is refused. Each is capped by its ``max_discount``."""
    left = {line.sku: line.total for line in lines}
    given = {line.sku: ZERO for line in lines}
    applied: list[Applied] = []
    refused: list[Refusal] = []
    free_delivery = False
    multiplier, multiplier_name = Decimal("1"), ""
    subtotal = sum((line.total for line in lines), ZERO)
    ordered = sorted(terms, key=lambda t: (-t.priority, t.ref))
    for term in ordered:
        refusal = _check(term, lines, channel, store_id, shopper, subtotal, now)
        if refusal is None and applied and (term.exclusive or _exclusive(applied, ordered)):
            first = applied[0].name
            refusal = Refusal(term.ref, "not_combinable", f"Cannot be combined with {first}.")
        if refusal is not None:
            refused.append(refusal)
            continue
        if term.reward == FREE_DELIVERY:
            free_delivery = True
        elif term.reward == POINTS_MULTIPLIER and term.value > multiplier:
            multiplier, multiplier_name = term.value, term.name  # the best one, not a product
        shares = _cap(term, _raw_discounts(term, lines, left))
        rounded = _allocate(shares)
        for sku, amount in rounded.items():
            left[sku] -= amount
            given[sku] += amount
        applied.append(
            Applied(
                term.ref,
                term.name,
                term.reward,
                sum(rounded.values(), ZERO),
                {sku: amount for sku, amount in rounded.items() if amount},
            )
        )
    return Pricing(given, applied, refused, free_delivery, multiplier, multiplier_name)


def _exclusive(applied: list[Applied], ordered: list[Terms]) -> bool:
    """Whether what was applied so far includes an exclusive term."""
    exclusive = {t.ref for t in ordered if t.exclusive}
    return any(a.ref in exclusive for a in applied)


def _check(
    term: Terms,
    lines: Sequence[Line],
    channel: str,
    store_id: int | None,
    shopper: Shopper,
    subtotal: Decimal,
    now: datetime,
) -> Refusal | None:
    """The first condition ``term`` fails, as a refusal; None when it applies."""

    def no(reason: str, message: str) -> Refusal:
        return Refusal(term.ref, reason, message)

    if term.starts_at is not None and now < term.starts_at:
        return no("not_started", f"{term.name} starts on {term.starts_at:%Y-%m-%d}.")
    if term.ends_at is not None and now >= term.ends_at:
        return no("ended", f"{term.name} ended on {term.ends_at:%Y-%m-%d}.")
    in_store = channel in STORE_CHANNELS
    if (term.redeemable == "online" and in_store) or (
        term.redeemable == "in_store" and not in_store
    ):
        where = "online" if term.redeemable == "online" else "in store"
        return no("where", f"{term.name} can only be used {where}.")
    if term.channels and channel not in term.channels:
        return no("channel", f"{term.name} is not valid in this channel.")
    if term.stores and store_id not in term.stores:
        return no("store", f"{term.name} is not valid at this store.")
    if term.tiers and (shopper.tier_id is None or shopper.tier_id not in term.tiers):
        return no("tier", f"{term.name} is for members of another loyalty tier.")
    if term.segment is not None and term.segment not in shopper.segments:
        return no("segment", f"{term.name} is for a group of customers you are not in.")
    if subtotal < term.min_spend:
        return no("min_spend", f"{term.name} needs a cart of at least {term.min_spend}.")
    eligible = [line for line in lines if term.targets(line)]
    if not eligible:
        return no("no_qualifying_items", f"Nothing in the cart qualifies for {term.name}.")
    if term.reward == FREE_ITEM and not any(line.sku == term.free_sku for line in lines):
        return no("free_item_missing", f"Add {term.free_sku} to the cart to get it free.")
    if term.reward == BUY_X_GET_Y:
        units = sum(line.quantity for line in eligible)
        if units < term.buy_quantity + term.get_quantity:
            return no(
                "not_enough_items",
                f"{term.name}: buy {term.buy_quantity} and get {term.get_quantity} "
                f"(the cart has {units} qualifying).",
            )
    return None


def _raw_discounts(
    term: Terms, lines: Sequence[Line], left: dict[str, Decimal]
) -> dict[str, Decimal]:
    """The exact (unrounded) discount per line, never more than what is left of the line."""
    eligible = [line for line in lines if term.targets(line) and left[line.sku] > 0]
    raw: dict[str, Decimal] = {}
    if term.reward in {PERCENT_OFF_CART, PERCENT_OFF_LINES}:
        raw = {line.sku: left[line.sku] * term.value / HUNDRED for line in eligible}
    elif term.reward == AMOUNT_OFF_LINES:
        raw = {line.sku: term.value * line.quantity for line in eligible}
    elif term.reward == AMOUNT_OFF_CART:
        base = sum((left[line.sku] for line in eligible), ZERO)
        off = min(term.value, base)
        raw = {line.sku: off * left[line.sku] / base for line in eligible} if base else {}
    elif term.reward == FREE_ITEM:
        line = next(line for line in lines if line.sku == term.free_sku)
        raw = {line.sku: line.unit_price * min(max(term.get_quantity, 1), line.quantity)}
    elif term.reward == BUY_X_GET_Y:
        raw = _buy_x_get_y(term, eligible)
    return {sku: min(amount, left[sku]) for sku, amount in raw.items()}


def _buy_x_get_y(term: Terms, eligible: list[Line]) -> dict[str, Decimal]:
    """For every X + Y qualifying units, the Y cheapest get ``value`` percent off."""
    units = sorted((line.unit_price, line.sku) for line in eligible for _ in range(line.quantity))
    free = (len(units) // (term.buy_quantity + term.get_quantity)) * term.get_quantity
    raw: dict[str, Decimal] = {}
    for unit_price, sku in units[:free]:
        raw[sku] = raw.get(sku, ZERO) + unit_price * term.value / HUNDRED
    return raw


def _cap(term: Terms, raw: dict[str, Decimal]) -> dict[str, Decimal]:
    """Scaled down, in proportion, to the term's per-order maximum."""
    total = sum(raw.values(), ZERO)
    if term.max_discount is None or total <= term.max_discount or not total:
        return raw
    return {sku: amount * term.max_discount / total for sku, amount in raw.items()}


def _allocate(raw: dict[str, Decimal]) -> dict[str, Decimal]:
    """Cents per line summing exactly to the total rounded half-up (largest remainder)."""
    total = sum(raw.values(), ZERO).quantize(CENT, rounding=ROUND_HALF_UP)
    floors = {sku: amount.quantize(CENT, rounding=ROUND_DOWN) for sku, amount in raw.items()}
    cents_left = int((total - sum(floors.values(), ZERO)) / CENT)
    by_remainder = sorted(raw, key=lambda sku: -(raw[sku] - floors[sku]))  # stable: ties keep order
    for sku in by_remainder[:cents_left]:
        floors[sku] += CENT
    return floors
