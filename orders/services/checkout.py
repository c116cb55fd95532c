"""Checkout: one service for the storefront API and the clerk's till, for delivery, pick-up
in store and in-store sales. All or nothing: stock, points and payment are taken together in
one transaction, so any failure puts every quantity back exactly."""

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import transaction

from campaigns.models import Coupon
from campaigns.services import Pricing
from customers.models import Customer
from inventory import services as inventory
from inventory.allocation import allocate_delivery
from inventory.models import Location, Reservation
from inventory.services import StockLine
from loyalty import services as loyalty
from loyalty.models import StoredValueCard
from omni.core.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    OfferChanged,
    PriceChanged,
)
from omni.core.replay import replay_or_run
from orders import notifications
from orders.locks import lock_cart, lock_cart_lines
from orders.models import Cart, Order, OrderEvent, OrderLine, Payment, Shipment, ShipmentLine
from orders.payments import payment_provider
from orders.services import money
from orders.services.carts import pickup_store
from orders.services.lifecycle import transition
from orders.services.offers import check_offers, record_discounts
from orders.services.points import earn_points

CENT = Decimal("0.01")
NUMBER_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 5/S, 8/B to misread at a till


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postcode: str
    country: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class _Choices:
    """What the shopper (or the clerk) chose besides the cart, carried through checkout."""

    pickup_store_code: str | None
    address: Address | None
    redeem_points: int
    payment_token: str
    clerk: User | None
    till_store: Location | None
    customer: Customer | None
    stored_value_card: StoredValueCard | None = None

    def fingerprint(self, fulfilment: str) -> str:
        """What was asked, as a SHA-256: a retry asks the same, another request with the same
        key does not. The payment token is only in the hash, never kept as sent."""
        asked = {
            "fulfilment": fulfilment,
            "pickup_store": self.pickup_store_code,
            "address": asdict(self.address) if self.address else None,
            "redeem_points": self.redeem_points,
            "payment_token": hashlib.sha256(self.payment_token.encode()).hexdigest(),
            "till_store": self.till_store.code if self.till_store else None,
            "customer": str(self.customer.public_id) if self.customer else None,
            **(
                {"stored_value_card": str(self.stored_value_card.public_id)}
                if self.stored_value_card
                else {}
            ),
        }
        return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    created: bool  # False when a retry (same key) or a second device got the first order


def new_order_number() -> str:
    while True:
        number = "OM-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(7))
        if not Order.objects.filter(number=number).exists():
            return number


def reprice(cart: Cart) -> list[dict[str, str]]:
    """Bring the cart's prices up to date; returns what changed. Checkout commits the new
    prices before it refuses, so the shopper sees them even though this attempt stops."""
    changed = []
    for line in lock_cart_lines(cart):
        if line.unit_price != line.sku.price:
            changed.append(
                {"sku": line.sku.code, "was": str(line.unit_price), "now": str(line.sku.price)}
            )
            line.unit_price = line.sku.price
            line.save(update_fields=["unit_price", "updated_at"])
    return changed


def _ensure_card_presented(customer: Customer, card_number: str) -> None:
    number = "".join(card_number.split())
    if not number:
        raise InvalidRequest("Scan the customer's loyalty card to redeem points.")
    try:
        account = loyalty.account_for_card(number)  # a blocked card is refused here
    except NotFound:
        account = None
    if account is None or account.customer_id != customer.pk:
        raise InvalidRequest(
            "That loyalty card is not this customer's: scan their own card to redeem points."
        )


def checkout(
    *,
    cart: Cart,
    fulfilment: str,
    channel: str,
    idempotency_key: str,
    pickup_store_code: str | None = None,
    address: Address | None = None,
    redeem_points: int = 0,
    payment_token: str = "",
    clerk: User | None = None,
    till_store: Location | None = None,
    customer: Customer | None = None,
    card_number: str = "",
    stored_value_card: StoredValueCard | None = None,
) -> CheckoutResult:
    """Turn the cart into an order. A retry with the same key, or a second device checking out
    the same cart at the same moment, gets the first order and reserves nothing twice. The
    same key with another request (a delivery after a pick-up, other points, another card)
    is refused with ``IdempotencyKeyReused`` and changes nothing.

    ``customer`` is for a clerk's sale rung up on the till's own cart: the order (and its
    points) is the customer's, while their online cart stays as it is. Redeeming that
    customer's points needs ``card_number``, one of their active loyalty cards, scanned at the
    till: finding someone by phone is no proof they are there to spend their points.

    ``stored_value_card`` pays first, up to its balance (split tender); the provider (or the
    till) takes the rest. Both happen in this one transaction: a declined second tender
    refuses the checkout and the card keeps its money."""
    if customer is not None and (fulfilment != Order.Fulfilment.IN_STORE or clerk is None):
        raise InvalidRequest("Only a clerk's in-store sale names its customer apart from the cart.")
    if not idempotency_key:
        raise InvalidRequest("Send an Idempotency-Key so a retried checkout is safe.")
    # Scoped to the shopper, not the cart: a retry after success finds the customer's new,
    # empty cart, and must still get the first order back.
    owner = f"customer:{cart.customer_id}" if cart.customer_id else f"guest:{cart.guest_token}"
    key = f"{owner}:{idempotency_key}"
    choices = _Choices(
        pickup_store_code,
        address,
        redeem_points,
        payment_token,
        clerk,
        till_store,
        customer,
        stored_value_card,
    )
    fingerprint = choices.fingerprint(fulfilment)
    locked = cart  # the cart as ``lock`` read it, for ``run``

    def lock() -> None:
        nonlocal locked
        locked = lock_cart(cart)

    with transaction.atomic():
        outcome, _ = replay_or_run(
            find=lambda: _placed_with(key, fingerprint, idempotency_key),
            lock=lock,
            run=lambda: _checkout_locked(
                locked,
                key=key,
                fingerprint=fingerprint,
                fulfilment=fulfilment,
                channel=channel,
                choices=choices,
                card_number=card_number,
            ),
        )
    if isinstance(outcome, PriceChanged | OfferChanged):
        raise outcome  # once the new prices, or the cart's offers put right, are committed
    return outcome


def _placed_with(key: str, fingerprint: str, sent_key: str) -> CheckoutResult | None:
    """The order a checkout with this (shopper-scoped) key placed, if one did and was asked
    the same. Orders placed before fingerprints were kept have none: they are given back."""
    order = Order.objects.filter(checkout_key=key).first()
    if order is None:
        return None
    if order.checkout_fingerprint and order.checkout_fingerprint != fingerprint:
        raise IdempotencyKeyReused.for_key(sent_key)
    return CheckoutResult(order, created=False)


def _checkout_locked(
    cart: Cart,
    *,
    key: str,
    fingerprint: str,
    fulfilment: str,
    channel: str,
    choices: _Choices,
    card_number: str,
) -> CheckoutResult | PriceChanged | OfferChanged:
    """Checkout with the cart locked. A price or an offer that changed is not an error here
    but the refusal to raise once the cart is put right and committed."""
    if choices.customer is not None and choices.redeem_points:
        _ensure_card_presented(choices.customer, card_number)
    changed = reprice(cart)
    if changed:
        return PriceChanged(
            "Some prices changed since they were added; the cart shows the new ones.",
            details={"lines": changed},
        )
    if cart.status != Cart.Status.ACTIVE:  # checked out by another device, or merged
        priced: tuple[Pricing, list[Coupon]] | OfferChanged = (Pricing(lines={}), [])
    else:
        priced = check_offers(
            cart,
            channel=channel,
            customer=choices.customer or cart.customer,
            store=_pricing_store(cart, fulfilment, choices),
        )
    if isinstance(priced, OfferChanged):
        return priced
    return _place_order(
        cart=cart,
        key=key,
        fingerprint=fingerprint,
        fulfilment=fulfilment,
        channel=channel,
        choices=choices,
        priced=priced,
    )


def _pricing_store(cart: Cart, fulfilment: str, choices: _Choices) -> Location | None:
    """The store the order would be collected or sold at, for offers valid at some stores
    only (checked properly when the order is placed)."""
    if fulfilment == Order.Fulfilment.IN_STORE:
        return choices.till_store
    if fulfilment == Order.Fulfilment.PICKUP:
        if choices.pickup_store_code:
            return Location.objects.filter(code=choices.pickup_store_code).first()
        return cart.pickup_store
    return None


def _place_order(
    *,
    cart: Cart,
    key: str,
    fingerprint: str,
    fulfilment: str,
    channel: str,
    choices: _Choices,
    priced: tuple[Pricing, list[Coupon]],
) -> CheckoutResult:
    """The order, from the locked and repriced cart."""
    if cart.status == Cart.Status.CHECKED_OUT:
        return CheckoutResult(cart.order, created=False)  # the other device won
    if cart.status != Cart.Status.ACTIVE:
        raise InvalidRequest("This cart was merged into another one.")
    lines = list(cart.lines.select_related("sku__product"))
    if not lines:
        raise InvalidRequest("The cart is empty.")
    if fulfilment not in Order.Fulfilment.values:
        raise InvalidRequest(f"Unknown fulfilment {fulfilment!r}.")
    subtotal = sum((line.line_total for line in lines), Decimal(0))
    order = Order.objects.create(
        number=new_order_number(),
        customer=choices.customer or cart.customer,
        cart=cart,
        channel=channel,
        fulfilment=fulfilment,
        store=_order_store(cart, fulfilment, choices),
        clerk=choices.clerk,
        ship_to=_address_json(fulfilment, choices.address),
        currency=cart.currency,
        subtotal=subtotal,
        total=subtotal,
        checkout_key=key,
        checkout_fingerprint=fingerprint,
    )
    order_lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                unit_cost=line.sku.cost_price,  # as it is now: margins do not move later
                line_total=line.line_total,
            )
            for line in lines
        ]
    )
    OrderEvent.objects.create(
        order=order, to_status=order.status, actor=choices.clerk, actor_label=_who(order)
    )
    inventory.release_reservations(reference=cart.hold_reference, kind=Reservation.Kind.CART_HOLD)
    _take_stock(order, order_lines, choices)
    record_discounts(order, order_lines, *priced)
    _redeem_points(order, order_lines, choices.redeem_points)
    _take_payment(order, choices.payment_token, choices.stored_value_card)
    cart.status = Cart.Status.CHECKED_OUT
    cart.save(update_fields=["status", "updated_at"])
    if order.fulfilment == Order.Fulfilment.IN_STORE:
        earn_points(order)  # the goods left with the customer: like a collected pick-up
    else:
        notifications.order_placed(order)  # the till prints a receipt instead
    return CheckoutResult(order, created=True)


def _who(order: Order) -> str:
    if order.clerk:
        return f"staff:{order.clerk.get_username()}"
    return "customer" if order.customer_id else "guest"


def _order_store(cart: Cart, fulfilment: str, choices: _Choices) -> Location | None:
    if fulfilment == Order.Fulfilment.PICKUP:
        code = choices.pickup_store_code or (cart.pickup_store and cart.pickup_store.code)
        if not code:
            raise InvalidRequest("Choose the store to collect from.")
        return pickup_store(code)
    if fulfilment == Order.Fulfilment.IN_STORE:
        if choices.clerk is None or choices.till_store is None:
            raise InvalidRequest("An in-store sale is made by a clerk at a store.")
        return choices.till_store
    return None


def _address_json(fulfilment: str, address: Address | None) -> dict[str, str | float]:
    if fulfilment != Order.Fulfilment.DELIVERY:
        return {}
    if address is None:
        raise InvalidRequest("A delivery needs an address.")
    return {k: v for k, v in address.__dict__.items() if v is not None}


def _take_stock(order: Order, lines: list[OrderLine], choices: _Choices) -> None:
    if order.fulfilment == Order.Fulfilment.PICKUP:
        inventory.reserve(
            lines=[
                StockLine(line.sku_id, order.fulfilling_store.pk, line.quantity) for line in lines
            ],
            kind=Reservation.Kind.ORDER,
            reference=order.reservation_reference,
        )
    elif order.fulfilment == Order.Fulfilment.IN_STORE:
        inventory.sell_in_store(
            location=order.fulfilling_store,
            lines={line.sku: line.quantity for line in lines},
            reference=order.reservation_reference,
            actor=order.clerk,
        )
    elif choices.address is None:  # refused before, by _address_json; said again for the types
        raise InvalidRequest("A delivery needs an address.")
    else:
        _allocate(order, lines, choices.address)


def _allocate(order: Order, lines: list[OrderLine], address: Address) -> None:
    """Ship from the locations the allocation strategy picks, each shipment reserved."""
    by_sku = {line.sku_id: line for line in lines}  # a cart has one line per SKU
    plan = allocate_delivery(
        {line.sku_id: line.quantity for line in lines},
        latitude=address.latitude,
        longitude=address.longitude,
    )
    for planned in plan:
        shipment = Shipment.objects.create(order=order, location_id=planned.location_id)
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(shipment=shipment, order_line=by_sku[sku_id], quantity=units)
                for sku_id, units in planned.lines.items()
            ]
        )
        inventory.reserve(
            lines=[
                StockLine(sku_id, planned.location_id, q) for sku_id, q in planned.lines.items()
            ],
            kind=Reservation.Kind.ORDER,
            reference=shipment.reservation_reference,
        )
    transition(order, Order.Status.ALLOCATED, label="system", note=f"{len(plan)} shipment(s)")


def _redeem_points(order: Order, lines: list[OrderLine], points: int) -> None:
    """Points as a discount on what is left to pay once offers are off, shared out over the
    lines (added to their offers' share) so a return refunds its exact part."""
    if not points:
        return
    if order.customer_id is None:
        raise InvalidRequest("Sign in to use points.")
    redemption = loyalty.redeem(
        customer=order.customer,
        points=points,
        reference=order.number,
        source="order",
        channel=order.channel,
        idempotency_key=f"order:{order.number}:redeem",
    )
    discount = redemption.value.quantize(CENT)
    payable = order.subtotal - order.offer_discount
    if discount > payable:
        raise InvalidRequest(
            "That is more points than the order is worth.",
            details={"order_value": str(payable), "points_value": str(discount)},
        )
    remaining = discount
    for line in lines[:-1]:
        share = (discount * line.paid / payable).quantize(CENT, rounding=ROUND_HALF_UP)
        line.discount += share
        remaining -= share
    lines[-1].discount += remaining
    OrderLine.objects.bulk_update(lines, ["discount"])
    order.points_redeemed = points
    order.points_discount = discount
    order.total = payable - discount
    order.save(update_fields=["points_redeemed", "points_discount", "total", "updated_at"])


def _take_payment(order: Order, token: str, card: StoredValueCard | None) -> None:
    """Authorise now; capture when the goods leave (at once for an in-store sale). A
    stored-value card pays first, as much as its balance covers; the provider the rest."""
    due = order.total - _pay_by_card(order, card)
    if due > 0:
        provider = payment_provider()
        reference = provider.authorize(
            amount=due, currency=order.currency, token=token, reference=order.number
        )
        Payment.objects.create(
            order=order,
            provider=provider.name,
            reference=reference,
            amount=due,
            status=Payment.Status.AUTHORIZED,
        )
    if order.fulfilment == Order.Fulfilment.IN_STORE:
        money.capture(order)
        transition(order, Order.Status.COMPLETED, actor=order.clerk)


def _pay_by_card(order: Order, card: StoredValueCard | None) -> Decimal:
    """What the stored-value card paid of the order (its balance, at most the total): taken
    off the card now, held as an authorised tender until the goods leave."""
    if card is None or order.total <= 0:
        return Decimal(0)
    fresh = loyalty.stored_value_card_for(card.number)  # a blocked card is refused here
    entry = loyalty.pay_with_stored_value(
        card=fresh,
        amount=order.total,
        up_to_balance=True,  # read under the card's lock: a till paying at once can't race it
        currency=order.currency,
        reference=order.number,
        source="order",
        channel=order.channel,
        actor=order.clerk,
        idempotency_key=f"order:{order.number}:stored-value",
    )
    amount = -entry.amount
    Payment.objects.create(
        order=order,
        provider=Payment.STORED_VALUE,
        card=fresh,
        reference=f"sv:{entry.pk}",
        amount=amount,
        status=Payment.Status.AUTHORIZED,
    )
    return amount
