"""Coupon codes: generated in bulk, checked when presented, used once per order under a row
lock, and given back when the order is cancelled or expires."""

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from campaigns.locks import lock_coupons, lock_used_redemptions
from campaigns.models import CodeBatch, Coupon, Offer, Redemption, RefusedCode, normalise_code
from customers.models import Customer
from omni.core.errors import InvalidCoupon, InvalidRequest, OfferChanged, TooManyAttempts

log = logging.getLogger("omni.coupons")

# No 0/O, 1/I/L, 5/S, 8/B, 2/Z: nothing to misread on a receipt or type wrong at a till.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
MIN_CODE_BITS = 60
CODE_LENGTH = math.ceil(MIN_CODE_BITS / math.log2(len(CODE_ALPHABET)))  # 13 characters
MAX_BATCH = 100_000


def new_code(prefix: str = "") -> str:
    return normalise_code(prefix) + "".join(
        secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)
    )


@transaction.atomic
def generate_codes(
    *, offer: Offer, name: str, quantity: int, prefix: str = "", actor: User | None = None
) -> CodeBatch:
    """``quantity`` unique single-use codes for a coupon offer, each with ≥ 60 random bits
    (``secrets``), so guessing one is hopeless within the throttles' limits."""
    if offer.trigger != Offer.Trigger.CODE:
        raise InvalidRequest("Codes are for coupon offers, not automatic ones.")
    if not 0 < quantity <= MAX_BATCH:
        raise InvalidRequest(f"A batch holds 1 to {MAX_BATCH} codes.")
    batch = CodeBatch.objects.create(
        offer=offer, name=name, quantity=quantity, prefix=normalise_code(prefix), created_by=actor
    )
    made = 0
    while made < quantity:  # a collision (vanishingly rare) is simply drawn again
        codes = {new_code(prefix) for _ in range(quantity - made)}
        created = Coupon.objects.bulk_create(
            [
                Coupon(offer=offer, code=c, kind=Coupon.Kind.UNIQUE, batch=batch, max_uses=1)
                for c in codes
            ],
            ignore_conflicts=True,
        )
        made = Coupon.objects.filter(batch=batch).count() if created else made
    return batch


def batch_rows(batch: CodeBatch) -> list[list[str]]:
    """The batch as CSV rows (header first), for print or an e-mail tool."""
    rows = [["code", "offer", "batch", "used"]]
    for code, used in batch.coupons.order_by("pk").values_list("code", "times_used"):
        rows.append([code, batch.offer.name, batch.name, "yes" if used else "no"])
    return rows


def _refuse(reason: str, message: str, code: str) -> InvalidCoupon:
    return InvalidCoupon(message, details={"reason": reason, "code": code})


def find_coupon(
    *, code: str, customer: Customer | None, channel: str, now: datetime | None = None
) -> Coupon:
    """The coupon a shopper presents, if they may use it now; else ``InvalidCoupon`` with the
    reason. The offer's other conditions (cart, store, tier) are pricing's to say."""
    now = now or timezone.now()
    wanted = normalise_code(code)
    coupon = Coupon.objects.select_related("offer").filter(code=wanted).first() if wanted else None
    if coupon is None or not coupon.is_active or not coupon.offer.is_active:
        raise _refuse("unknown", "This code does not exist.", wanted)
    offer = coupon.offer
    if coupon.customer_id is not None and coupon.customer_id != getattr(customer, "pk", None):
        raise _refuse("not_yours", "This code belongs to another customer.", wanted)
    if offer.starts_at and now < offer.starts_at:
        raise _refuse("not_started", f"This code is valid from {offer.starts_at:%Y-%m-%d}.", wanted)
    if offer.ends_at and now >= offer.ends_at:
        raise _refuse("ended", f"This code expired on {offer.ends_at:%Y-%m-%d}.", wanted)
    in_store = channel == "store"
    if (offer.redeemable == Offer.Where.ONLINE and in_store) or (
        offer.redeemable == Offer.Where.IN_STORE and not in_store
    ):
        where = "online" if offer.redeemable == Offer.Where.ONLINE else "in store"
        raise _refuse("where", f"This code can only be used {where}.", wanted)
    if offer.channels and channel not in offer.channels:
        raise _refuse("channel", "This code is not valid in this channel.", wanted)
    _ensure_uses_left(coupon, customer)
    return coupon


def _ensure_uses_left(coupon: Coupon, customer: Customer | None) -> None:
    if coupon.max_uses is not None and coupon.times_used >= coupon.max_uses:
        raise _refuse("used_up", "This code has already been used.", coupon.code)
    if coupon.max_uses_per_customer is None:
        return
    if customer is None:
        raise _refuse("sign_in", "Sign in to use this code.", coupon.code)
    mine = coupon.redemptions.filter(customer=customer, status=Redemption.Status.USED).count()
    if mine >= coupon.max_uses_per_customer:
        raise _refuse("used_up", "You have already used this code.", coupon.code)


def record_refused_code(
    *, tried: str, reason: str, customer: Customer | None, channel: str, client: str = ""
) -> RefusedCode:
    """Count and log a refused code (in its own transaction: the refusal changes nothing
    else, but the attempt is kept)."""
    log.warning(
        "coupon code refused: reason=%s customer=%s channel=%s client=%s",
        reason,
        getattr(customer, "pk", None),
        channel,
        client,
    )
    return RefusedCode.objects.create(
        tried=normalise_code(tried)[:40],
        reason=reason,
        customer=customer,
        channel=channel,
        client=client[:64],
    )


def ensure_may_try_codes(*, client: str, now: datetime | None = None) -> None:
    """Refuse a code from ``client`` (a till: ``clerk:<username>``) once it had
    ``COUPON_REFUSALS_PER_HOUR`` refused in the last hour: the storefront API has rate limits
    per address, key and customer; a staff log-in at a till has this instead."""
    now = now or timezone.now()
    limit = settings.COUPON_REFUSALS_PER_HOUR
    refused = RefusedCode.objects.filter(
        client=client[:64], created_at__gte=now - timedelta(hours=1)
    ).count()
    if refused >= limit:
        log.warning("coupon codes blocked for client=%s: %s refused in an hour", client, refused)
        raise TooManyAttempts(
            f"{refused} codes were refused here in the last hour: no more codes for now. "
            "A code the customer has in the app is listed on their page.",
            details={"limit": limit, "window": "1 hour"},
        )


@dataclass(frozen=True)
class CouponUse:
    coupon_id: int
    discount: Decimal


def redeem_coupons(
    *, uses: list[CouponUse], customer: Customer | None, reference: str, channel: str
) -> list[Redemption]:
    """Record one use of each coupon for the order ``reference``, in the caller's transaction,
    with the coupons locked: of two orders presenting the same single-use code at once, the
    second waits and is refused with ``OfferChanged`` (reason used_up), its order rolled back."""
    coupons = {c.pk: c for c in lock_coupons(u.coupon_id for u in uses)}
    redemptions = []
    for use in sorted(uses, key=lambda u: u.coupon_id):
        coupon = coupons[use.coupon_id]
        try:
            _ensure_uses_left(coupon, customer)
        except InvalidCoupon as refusal:
            raise OfferChanged(refusal.message, details=refusal.details) from None
        coupon.times_used += 1
        coupon.save(update_fields=["times_used"])
        redemptions.append(
            Redemption.objects.create(
                coupon=coupon,
                customer=customer,
                reference=reference,
                channel=channel,
                discount=use.discount,
            )
        )
    return redemptions


def release_redemptions(*, reference: str) -> int:
    """Give back the uses of an order that will not be fulfilled (cancelled, expired), in the
    caller's transaction; a second call finds nothing more to give back."""
    redemptions = lock_used_redemptions(reference)
    if not redemptions:
        return 0
    coupons = {c.pk: c for c in lock_coupons(r.coupon_id for r in redemptions)}
    now = timezone.now()
    for redemption in redemptions:
        coupon = coupons[redemption.coupon_id]
        coupon.times_used = max(coupon.times_used - 1, 0)
        coupon.save(update_fields=["times_used"])
        redemption.status = Redemption.Status.RELEASED
        redemption.released_at = now
        redemption.save(update_fields=["status", "released_at"])
    return len(redemptions)
