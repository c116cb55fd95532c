"""Offers and coupons on carts and orders: apply and remove a code, price the cart, refuse a
checkout whose offers changed since the cart was priced, and record the discounts and coupon
uses of an order. The rules of offers themselves are ``campaigns.services``'."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from campaigns import services as campaigns
from campaigns.models import Coupon, Offer, normalise_code
from campaigns.services import CartItem, CouponUse, Pricing
from customers.models import Customer
from inventory.models import Location
from omni.core.errors import InvalidCoupon, NotFound, OfferChanged
from orders.locks import lock_cart
from orders.models import Cart, CartCoupon, CartLine, Order, OrderDiscount, OrderLine

MAX_COUPONS_PER_CART = 5  # more is a hunt for combinations, not a shopper


def _items(lines: list[CartLine] | list[OrderLine]) -> list[CartItem]:
    return [
        CartItem(line.sku.code, line.sku.product.category_id, line.quantity, line.unit_price)
        for line in lines
    ]


def price_lines(
    lines: list[CartLine] | list[OrderLine],
    *,
    coupons: list[Coupon],
    channel: str,
    customer: Customer | None,
    store: Location | None,
    now: datetime | None = None,
) -> Pricing:
    """The lines (with ``sku__product`` loaded) priced with live automatic offers and these
    coupons."""
    return campaigns.price_cart(
        items=_items(lines),
        channel=channel,
        store_id=store.pk if store else None,
        customer=customer,
        coupons=coupons,
        now=now or timezone.now(),
    )


def cart_coupons(cart: Cart) -> list[CartCoupon]:
    return list(cart.coupons.select_related("coupon__offer").order_by("added_at", "pk"))


def price_cart(
    cart: Cart,
    *,
    channel: str,
    customer: Customer | None = None,
    lines: list[CartLine] | None = None,
    store: Location | None = None,
) -> Pricing:
    """What the cart's offers and coupons take off, as the shopper sees it now (``lines``:
    the cart's lines with ``sku__product``, when the caller has read them already; ``store``:
    where it is sold, a till's store, else the cart's pick-up store)."""
    if lines is None:
        lines = list(cart.lines.select_related("sku__product"))
    return price_lines(
        lines,
        coupons=[c.coupon for c in cart.coupons.all()],  # prefetched by ``cart_detail``
        channel=channel,
        customer=customer or cart.customer,
        store=store or cart.pickup_store,
    )


def remember_offers(cart: Cart, *, channel: str) -> None:
    """Note the automatic offers the cart gets now (and when each was last changed), so a
    checkout after one of them ended or changed is refused instead of charging more."""
    pricing = price_cart(cart, channel=channel)
    cart.offers_seen = _automatic_seen(pricing)
    cart.save(update_fields=["offers_seen", "updated_at"])


def _automatic_seen(pricing: Pricing) -> dict[str, dict[str, str]]:
    refs = {a.ref.removeprefix("offer:"): a for a in pricing.applied if a.ref.startswith("offer:")}
    changed = Offer.objects.filter(public_id__in=list(refs)).values_list("public_id", "updated_at")
    return {
        f"offer:{public_id}": {"name": refs[str(public_id)].name, "updated_at": at.isoformat()}
        for public_id, at in changed
    }


def apply_coupon(
    *, cart: Cart, code: str, channel: str, customer: Customer | None = None, client: str = ""
) -> Cart:
    """Present a code on the cart. A code that cannot be used (unknown, another customer's,
    outside its dates or channel, used up) is refused with ``InvalidCoupon``, changes nothing
    on the cart, and is counted and logged (the count is written in the caller's transaction:
    the API view answers the refusal without rolling it back)."""
    who = customer or cart.customer
    try:
        return _apply(cart=cart, code=code, channel=channel, customer=who)
    except InvalidCoupon as refusal:
        campaigns.record_refused_code(
            tried=code,
            reason=str(refusal.details.get("reason", "")),
            customer=who,
            channel=channel,
            client=client,
        )
        raise


@transaction.atomic
def _apply(*, cart: Cart, code: str, channel: str, customer: Customer | None) -> Cart:
    cart = _active(cart)
    coupon = campaigns.find_coupon(code=code, customer=customer, channel=channel)
    if coupon.offer.trigger != Offer.Trigger.CODE:
        raise InvalidCoupon("This code does not exist.", details={"reason": "unknown"})
    if cart.coupons.exclude(coupon=coupon).count() >= MAX_COUPONS_PER_CART:
        raise InvalidCoupon(
            f"A cart holds at most {MAX_COUPONS_PER_CART} codes.",
            details={"reason": "too_many", "max_codes": MAX_COUPONS_PER_CART},
        )
    CartCoupon.objects.update_or_create(
        cart=cart, coupon=coupon, defaults={"offer_seen_at": coupon.offer.updated_at}
    )
    remember_offers(cart, channel=channel)
    return cart


@transaction.atomic
def remove_coupon(*, cart: Cart, code: str, channel: str) -> Cart:
    cart = _active(cart)
    deleted, _ = cart.coupons.filter(coupon__code=normalise_code(code)).delete()
    if not deleted:
        raise NotFound("That code is not on the cart.", details={"code": normalise_code(code)})
    remember_offers(cart, channel=channel)
    return cart


def _active(cart: Cart) -> Cart:
    locked = lock_cart(cart)
    if locked.status != Cart.Status.ACTIVE:
        raise InvalidCoupon(
            "This cart was already checked out or merged.", details={"reason": "cart_closed"}
        )
    return locked


# --- Checkout ---------------------------------------------------------------------------------


def check_offers(
    cart: Cart, *, channel: str, customer: Customer | None, store: Location | None
) -> tuple[Pricing, list[Coupon]] | OfferChanged:
    """Price the locked cart for checkout. What changed since the cart was priced (a coupon no
    longer usable or its offer edited, an automatic offer ended or edited) is put right on the
    cart — the coupon taken off, the offers noted afresh — and returned as the refusal for the
    caller to raise once that is committed, like a price that changed."""
    changed: list[dict[str, str]] = []
    usable: list[CartCoupon] = []
    for presented in cart_coupons(cart):
        coupon = presented.coupon
        try:
            campaigns.find_coupon(code=coupon.code, customer=customer, channel=channel)
        except InvalidCoupon as refusal:
            changed.append(_change(coupon.code, str(refusal.details["reason"]), refusal.message))
            presented.delete()
            continue
        if presented.offer_seen_at != coupon.offer.updated_at:
            changed.append(_change(coupon.code, "changed", f"{coupon.offer.name} has changed."))
            presented.offer_seen_at = coupon.offer.updated_at
            presented.save(update_fields=["offer_seen_at"])
            continue
        usable.append(presented)
    lines = list(cart.lines.select_related("sku__product").order_by("pk"))
    coupons = [p.coupon for p in usable]
    pricing = price_lines(lines, coupons=coupons, channel=channel, customer=customer, store=store)
    for presented in usable:
        refused = pricing.refusal_of(f"coupon:{presented.coupon.code}")
        if refused is not None:
            changed.append(_change(presented.coupon.code, refused.reason, refused.message))
            presented.delete()
    seen_now = _automatic_seen(pricing)
    for ref, seen in (cart.offers_seen or {}).items():
        now = seen_now.get(ref)
        if now is None or now["updated_at"] != seen.get("updated_at"):
            reason = "ended" if now is None else "changed"
            changed.append(_change(ref, reason, f"{seen.get('name', 'An offer')} has {reason}."))
    if changed:
        cart.offers_seen = seen_now
        cart.save(update_fields=["offers_seen", "updated_at"])
        return OfferChanged(
            "Offers or coupons changed since the cart was priced; the cart shows what applies now.",
            details={"offers": changed},
        )
    return pricing, coupons


def _change(ref: str, reason: str, message: str) -> dict[str, str]:
    return {"ref": ref, "reason": reason, "message": message}


def record_discounts(
    order: Order, lines: list[OrderLine], pricing: Pricing, coupons: list[Coupon]
) -> None:
    """Each line's share of the offers into ``OrderLine.discount`` (so returns refund pro rata),
    each reward on the order, and one use of each coupon (locked: a single-use code is used
    by one order only, the other's checkout rolls back with ``OfferChanged``)."""
    for line in lines:
        line.discount = pricing.lines.get(line.sku.code, line.discount)
    OrderLine.objects.bulk_update(lines, ["discount"])
    by_ref = {f"coupon:{c.code}": c for c in coupons}
    automatic = [
        a.ref.removeprefix("offer:") for a in pricing.applied if a.ref.startswith("offer:")
    ]
    offers = {f"offer:{o.public_id}": o for o in Offer.objects.filter(public_id__in=automatic)}
    OrderDiscount.objects.bulk_create(
        [
            OrderDiscount(
                order=order,
                offer=by_ref[a.ref].offer if a.ref in by_ref else offers[a.ref],
                coupon=by_ref.get(a.ref),
                name=a.name,
                reward=a.reward,
                amount=a.amount,
            )
            for a in pricing.applied
        ]
    )
    amounts = {a.ref: a.amount for a in pricing.applied}
    campaigns.redeem_coupons(
        uses=[CouponUse(c.pk, amounts[f"coupon:{c.code}"]) for c in coupons],
        customer=order.customer,
        reference=order.number,
        channel=order.channel,
    )
    order.offer_discount = pricing.discount
    order.total = order.subtotal - order.offer_discount
    order.points_multiplier, order.points_offer = pricing.points_multiplier, pricing.points_offer
    order.save(
        update_fields=[
            "offer_discount",
            "total",
            "points_multiplier",
            "points_offer",
            "updated_at",
        ]
    )
