"""One cart per customer, the same from every channel, with short holds on pick-up stock."""

import secrets
from datetime import datetime, timedelta
from typing import Any, Literal, overload

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import CharField, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from customers.models import Customer
from inventory import services as inventory
from inventory.models import Location, Reservation, Sku
from inventory.services import StockLine
from omni.core.channels import Channel
from omni.core.errors import HoldLimitReached, InsufficientStock, InvalidRequest, NotFound
from orders.locks import lock_cart
from orders.models import Cart, CartCoupon, CartLine
from orders.services.offers import MAX_COUPONS_PER_CART, remember_offers

MAX_LINE_QUANTITY = 20  # per SKU: beyond that it is a trade order, not a basket


def hold_expiry() -> datetime:
    return timezone.now() + timedelta(minutes=settings.CART_HOLD_MINUTES)


@overload
def cart_of(
    *,
    customer: Customer | None = None,
    guest_token: str | None = None,
    create: Literal[True] = True,
    client_ref: str = "",
) -> Cart: ...


@overload
def cart_of(
    *,
    customer: Customer | None = None,
    guest_token: str | None = None,
    create: bool,
    client_ref: str = "",
) -> Cart | None: ...


def cart_of(
    *,
    customer: Customer | None = None,
    guest_token: str | None = None,
    create: bool = True,
    client_ref: str = "",
) -> Cart | None:
    """The active cart of a customer (created on first use) or of a guest's token. A new
    guest cart remembers ``client_ref`` (who opened it), to cap what one client holds."""
    if customer is not None:
        cart = Cart.objects.filter(customer=customer, status=Cart.Status.ACTIVE).first()
        if cart or not create:
            return cart
        try:
            with transaction.atomic():
                return Cart.objects.create(customer=customer)
        except IntegrityError:  # another device created it a moment ago
            return Cart.objects.get(customer=customer, status=Cart.Status.ACTIVE)
    if guest_token:
        # A checked-out guest cart is still found, so a retried checkout gets its order.
        cart = (
            Cart.objects.filter(guest_token=guest_token).exclude(status=Cart.Status.MERGED).first()
        )
        if cart is None:
            raise NotFound("No open guest cart has this token.")
        return cart
    if not create:
        return None
    return Cart.objects.create(guest_token=secrets.token_urlsafe(24), client_ref=client_ref)


def _locked(cart: Cart) -> Cart:
    locked = lock_cart(cart)
    if locked.status != Cart.Status.ACTIVE:
        raise InvalidRequest("This cart was already checked out or merged.")
    return locked


def _active_sku(code: str) -> Sku:
    sku = Sku.objects.filter(code=code).first()
    if sku is None or not sku.is_active:
        raise InvalidRequest(f"Unknown or discontinued SKU {code!r}.", details={"sku": code})
    return sku


def _check_quantity(quantity: int) -> None:
    if not 0 < quantity <= MAX_LINE_QUANTITY:
        raise InvalidRequest(
            f"A quantity is between 1 and {MAX_LINE_QUANTITY}.",
            details={"max_quantity": MAX_LINE_QUANTITY},
        )


def refresh_holds(cart: Cart) -> None:
    """Hold every line at the chosen pick-up store, or nothing. The cart's own holds are put
    back first, so they never count against it; all of it happens in the caller's transaction."""
    inventory.release_reservations(reference=cart.hold_reference, kind=Reservation.Kind.CART_HOLD)
    lines = list(cart.lines.all())
    if cart.pickup_store_id and lines:
        inventory.reserve(
            lines=[StockLine(line.sku_id, cart.pickup_store_id, line.quantity) for line in lines],
            kind=Reservation.Kind.CART_HOLD,
            reference=cart.hold_reference,
            expires_at=hold_expiry(),
        )
        if cart.customer_id is None:
            check_guest_hold_limits(cart, lines)


# --- What anonymous carts may hold ------------------------------------------------------------


def check_guest_hold_limits(cart: Cart, lines: list[CartLine]) -> None:
    """Refuse a guest cart's holds (the caller's transaction rolls them back) past the caps:
    ``GUEST_HOLD_MAX_UNITS`` in one cart, ``GUEST_HOLD_MAX_UNITS_PER_CLIENT`` at one store
    for the carts one client opened, and ``GUEST_HOLD_MAX_SHARE`` percent of a SKU's stock at
    a store for all guest carts together. Without them one anonymous caller could take a
    store's whole stock of a product off sale with cart holds. (A cart with no pick-up store
    holds nothing, so nothing to check.)

    Runs after ``reserve``, which locked the store's stock levels of these SKUs: concurrent
    guest holds of the same SKU wait for this transaction, so the sums see each other.
    """
    if cart.pickup_store_id is None:
        return
    sign_in = "Sign in to hold more for pick-up."
    units = sum(line.quantity for line in lines)
    if units > settings.GUEST_HOLD_MAX_UNITS:
        raise HoldLimitReached(
            f"A guest cart holds at most {settings.GUEST_HOLD_MAX_UNITS} items for pick-up. "
            + sign_in,
            details={"max_units": settings.GUEST_HOLD_MAX_UNITS},
        )
    guest_holds = Reservation.objects.filter(
        kind=Reservation.Kind.CART_HOLD,
        status=Reservation.Status.ACTIVE,
        expires_at__gt=timezone.now(),
        level__location_id=cart.pickup_store_id,
    )
    if cart.client_ref:
        of_client = guest_holds.filter(reference__in=_hold_references(client_ref=cart.client_ref))
        held = of_client.aggregate(units=Sum("quantity"))["units"] or 0
        if held > settings.GUEST_HOLD_MAX_UNITS_PER_CLIENT:
            raise HoldLimitReached(
                "This device already holds a lot at this store. " + sign_in,
                details={"max_units": settings.GUEST_HOLD_MAX_UNITS_PER_CLIENT},
            )
    by_level = (
        guest_holds.filter(
            reference__in=_hold_references(), level__sku_id__in=[line.sku_id for line in lines]
        )
        .values("level__sku__code", "level__on_hand")
        .annotate(units=Sum("quantity"))
    )
    for row in by_level:
        allowed = max(1, row["level__on_hand"] * settings.GUEST_HOLD_MAX_SHARE // 100)
        if row["units"] > allowed:
            raise HoldLimitReached(
                f"Guests already hold as much of {row['level__sku__code']} as they may at "
                "this store. " + sign_in,
                details={"sku": row["level__sku__code"]},
            )


def _hold_references(**guest_cart_filters: str) -> "QuerySet[Cart, Any]":
    """The hold references (``cart:<public id>``) of active guest carts, as a subquery."""
    return (
        Cart.objects.filter(customer=None, status=Cart.Status.ACTIVE, **guest_cart_filters)
        .annotate(ref=Concat(Value("cart:"), Cast("public_id", CharField())))
        .values("ref")
    )


@transaction.atomic
def set_line(
    *,
    cart: Cart,
    sku_code: str,
    quantity: int,
    channel: str,
    device_id: str = "",
    clerk: User | None = None,
    add: bool = False,
) -> Cart:
    """Put ``quantity`` of a SKU in the cart (or add to what is there, with ``add``). The line
    remembers where it came from. With a pick-up store chosen, the store must hold it all."""
    cart = _locked(cart)
    sku = _active_sku(sku_code)
    line = cart.lines.filter(sku=sku).first()
    new_quantity = quantity + (line.quantity if line and add else 0)
    _check_quantity(new_quantity)
    if line is None:
        CartLine.objects.create(
            cart=cart,
            sku=sku,
            quantity=new_quantity,
            unit_price=sku.price,
            channel=channel,
            device_id=device_id,
            added_by=clerk,
        )
    else:
        line.quantity = new_quantity
        line.save(update_fields=["quantity", "updated_at"])
    refresh_holds(cart)
    remember_offers(cart, channel=channel)
    return cart


@transaction.atomic
def remove_line(*, cart: Cart, sku_code: str, channel: str | None = None) -> Cart:
    """Take the SKU out of the cart; the offers it gets are noted afresh for ``channel`` (by
    default the channel the remaining lines were last added in)."""
    cart = _locked(cart)
    deleted, _ = cart.lines.filter(sku__code=sku_code).delete()
    if not deleted:
        raise NotFound(f"{sku_code} is not in the cart.")
    refresh_holds(cart)
    last = cart.lines.order_by("-updated_at").values_list("channel", flat=True).first()
    remember_offers(cart, channel=channel or last or Channel.WEB)
    return cart


def pickup_store(code: str) -> Location:
    store = Location.objects.filter(code=code, is_active=True).first()
    if store is None:
        raise InvalidRequest(f"Unknown store {code!r}.", details={"store": code})
    if not store.pickup_enabled:
        raise InvalidRequest(f"{store.name} does not offer pick-up.", details={"store": code})
    return store


@transaction.atomic
def choose_pickup_store(*, cart: Cart, store_code: str | None) -> Cart:
    """Collect at this store; it must be able to cover every line on its own (held now)."""
    cart = _locked(cart)
    cart.pickup_store = pickup_store(store_code) if store_code else None
    cart.save(update_fields=["pickup_store", "updated_at"])
    refresh_holds(cart)
    return cart


@transaction.atomic
def keep_holds_alive(*, cart: Cart) -> int:
    """Shopper activity extends the cart's holds (those not lapsed yet)."""
    return inventory.extend_holds(reference=cart.hold_reference, until=hold_expiry())


@transaction.atomic
def _carry_coupons(guest: Cart, mine: Cart) -> None:
    """The guest's codes the customer's cart does not have yet, up to the cart's limit (the
    checkout checks each again, now for this customer)."""
    have = set(mine.coupons.values_list("coupon_id", flat=True))
    room = max(MAX_COUPONS_PER_CART - len(have), 0)
    moving = [c for c in guest.coupons.order_by("added_at", "pk") if c.coupon_id not in have]
    CartCoupon.objects.filter(pk__in=[c.pk for c in moving[:room]]).update(cart=mine)
    guest.coupons.all().delete()


def merge_guest_cart(*, customer: Customer, guest_token: str) -> Cart:
    """A guest signs in: the guest cart's lines and codes join the customer's cart. The same
    SKU in both keeps the larger quantity (the shopper added the same thing twice), within the
    limit."""
    guest = Cart.objects.filter(guest_token=guest_token).first()
    if guest is None:
        raise NotFound("No guest cart has this token.")
    mine = cart_of(customer=customer)
    if guest.status == Cart.Status.MERGED:
        return mine  # a retried merge
    for cart in sorted([guest, mine], key=lambda c: c.pk):  # the one lock order
        _locked(cart)
    existing = {line.sku_id: line for line in mine.lines.all()}
    for line in guest.lines.all():
        if line.sku_id in existing:
            kept = existing[line.sku_id]
            kept.quantity = min(max(kept.quantity, line.quantity), MAX_LINE_QUANTITY)
            kept.save(update_fields=["quantity", "updated_at"])
        else:
            line.cart = mine
            line.save(update_fields=["cart", "updated_at"])
    if mine.pickup_store_id is None and guest.pickup_store_id:
        mine.pickup_store_id = guest.pickup_store_id
    _carry_coupons(guest, mine)
    inventory.release_reservations(reference=guest.hold_reference, kind=Reservation.Kind.CART_HOLD)
    guest.status = Cart.Status.MERGED
    guest.save(update_fields=["status", "updated_at"])
    mine.save(update_fields=["pickup_store", "updated_at"])
    try:
        with transaction.atomic():
            refresh_holds(mine)
    except InsufficientStock:
        # Signing in never fails over stock: the merged cart simply stops being held at the
        # store, and the shopper sees it has no pick-up store any more.
        mine.pickup_store = None
        mine.save(update_fields=["pickup_store", "updated_at"])
        refresh_holds(mine)
    return mine
