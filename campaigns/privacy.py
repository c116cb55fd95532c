"""What campaigns hold about a person: their part of the data export, registered with
``customers`` in ``CampaignsConfig.ready``."""

from typing import Any

from campaigns.models import Coupon, Redemption
from customers.models import Customer

# The rows ``export_campaigns`` covers (see ``customers.selectors.register_export_section``).
EXPORTED_MODELS = ("campaigns.Coupon", "campaigns.Redemption")


def export_campaigns(*, customer: Customer) -> dict[str, Any]:
    """Their personal codes and every use of a code, in 2 queries whatever the history."""
    return {
        "personal_codes": list(
            Coupon.objects.filter(customer=customer)
            .order_by("created_at", "pk")
            .values("code", "offer__name", "times_used", "max_uses", "is_active", "created_at")
        ),
        "coupon_uses": [
            {**use, "discount": str(use["discount"])}
            for use in Redemption.objects.filter(customer=customer)
            .order_by("created_at", "pk")
            .values("coupon__code", "reference", "channel", "discount", "status", "created_at")
        ],
    }
