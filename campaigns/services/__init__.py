"""Offers and coupons: pricing (pure), codes, redemption and release. Other apps import this
package, never its modules."""

from campaigns.services.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CouponUse,
    batch_rows,
    find_coupon,
    generate_codes,
    new_code,
    record_refused_code,
    redeem_coupons,
    release_redemptions,
)
from campaigns.services.offers import (
    CartItem,
    automatic_offers,
    category_ancestry,
    coupon_terms,
    price_cart,
    shopper_of,
    terms_of,
)
from campaigns.services.pricing import (
    Applied,
    Line,
    Pricing,
    Refusal,
    Shopper,
    Terms,
    price,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "Applied",
    "CartItem",
    "CouponUse",
    "Line",
    "Pricing",
    "Refusal",
    "Shopper",
    "Terms",
    "automatic_offers",
    "batch_rows",
    "category_ancestry",
    "coupon_terms",
    "find_coupon",
    "generate_codes",
    "new_code",
    "price",
    "price_cart",
    "record_refused_code",
    "redeem_coupons",
    "release_redemptions",
    "shopper_of",
    "terms_of",
]
