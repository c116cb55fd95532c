"""Every row lock of campaigns' tables goes through here (primary-key order, own rows only)."""

from collections.abc import Iterable

from campaigns.models import Coupon

SELF = ("self",)


def lock_coupons(pks: Iterable[int]) -> list[Coupon]:
    """These coupons, fresh and locked in primary-key order, with their offers: a single-use
    code presented at the till and in the app at once is used by the first to lock it."""
    return list(
        Coupon.objects.select_for_update(of=SELF)
        .select_related("offer")
        .filter(pk__in=list(pks))
        .order_by("pk")
    )
