from decimal import Decimal

from campaigns.models import Coupon, Offer


def offer(**fields) -> Offer:
    values = {
        "name": "Ten percent off",
        "reward": Offer.Reward.PERCENT_OFF_CART,
        "value": Decimal("10"),
        **fields,
    }
    return Offer.objects.create(**values)


def coupon(code: str = "SPRING10", **fields) -> Coupon:
    made_offer = fields.pop("offer", None) or offer(
        name=f"Coupon {code}", trigger=Offer.Trigger.CODE
    )
    return Coupon.objects.create(offer=made_offer, code=code, **fields)
