"""Every write of campaigns, each atomic, re-exported here (other apps import this package,
never its modules). Segments: ``refresh`` (materialising a segment's members set-based in SQL,
on demand and on schedule), ``static`` (static segments from an uploaded CSV), ``rfm`` (RFM
scores), ``audience`` (hashed audience files for advertising platforms). Offers and coupons:
``pricing`` (pure), ``offers``, ``codes`` (codes, redemption and release). Recommendations:
``recommend`` (products bought together)."""

from campaigns.services.audience import (
    EXPORT_AUDIENCE,
    AudienceFile,
    audience,
    export_audience,
)
from campaigns.services.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CouponUse,
    batch_rows,
    ensure_may_try_codes,
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
from campaigns.services.recommend import refresh_affinities
from campaigns.services.refresh import (
    eligible_customers,
    refresh_scheduled_segments,
    refresh_segment,
)
from campaigns.services.rfm import refresh_rfm_scores
from campaigns.services.static import MemberFileInvalid, import_static_members

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "EXPORT_AUDIENCE",
    "Applied",
    "AudienceFile",
    "CartItem",
    "CouponUse",
    "Line",
    "MemberFileInvalid",
    "Pricing",
    "Refusal",
    "Shopper",
    "Terms",
    "audience",
    "automatic_offers",
    "batch_rows",
    "category_ancestry",
    "coupon_terms",
    "eligible_customers",
    "ensure_may_try_codes",
    "export_audience",
    "find_coupon",
    "generate_codes",
    "import_static_members",
    "new_code",
    "price",
    "price_cart",
    "record_refused_code",
    "redeem_coupons",
    "refresh_affinities",
    "refresh_rfm_scores",
    "refresh_scheduled_segments",
    "refresh_segment",
    "release_redemptions",
    "shopper_of",
    "terms_of",
]
