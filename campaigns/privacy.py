"""What campaigns holds about a person: segment memberships, their history and RFM scores,
their lifetime value, personal codes, coupon uses and refused codes they tried, the campaigns
that reached them (or held them out), the journeys they entered.
Their part of the data export and of erasure, and what a merge does to them, all registered
with ``customers`` in ``CampaignsConfig.ready``."""

from typing import Any

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from campaigns.models import (
    CampaignRecipient,
    Coupon,
    CustomerRfm,
    CustomerValue,
    JourneyEnrollment,
    Redemption,
    RefusedCode,
    SegmentChange,
    SegmentMembership,
)
from customers.models import Customer

# The rows ``export_campaigns`` covers (see ``customers.selectors.register_export_section``).
EXPORTED_MODELS = (
    "campaigns.SegmentMembership",
    "campaigns.SegmentChange",
    "campaigns.CustomerRfm",
    "campaigns.CustomerValue",
    "campaigns.Coupon",
    "campaigns.Redemption",
    "campaigns.RefusedCode",
    "campaigns.CampaignRecipient",
    "campaigns.JourneyEnrollment",
)


def erase_campaign_personal_data(*, customer: Customer) -> None:
    """An erased customer is in no segment (static ones included) from this moment, not from
    the next refresh; the leave is recorded. Their scores and value go: nobody may be targeted
    by them."""
    now = timezone.now()
    memberships = SegmentMembership.objects.filter(customer=customer)
    SegmentChange.objects.bulk_create(
        SegmentChange(
            segment_id=segment_id, customer=customer, kind=SegmentChange.Kind.LEFT, changed_at=now
        )
        for segment_id in memberships.values_list("segment_id", flat=True)
    )
    memberships.delete()
    CustomerRfm.objects.filter(customer=customer).delete()
    # Their own codes can no longer be used by anyone; the codes they tried stay counted
    # against guessing, but no longer say who tried them.
    Coupon.objects.filter(customer=customer).update(is_active=False)
    RefusedCode.objects.filter(customer=customer).update(customer=None)
    CustomerValue.objects.filter(customer=customer).delete()
    # They leave every journey now, and what their occasions were (a cart, an order) goes.
    JourneyEnrollment.objects.filter(
        customer=customer, status=JourneyEnrollment.Status.ACTIVE
    ).update(
        status=JourneyEnrollment.Status.EXITED,
        exit_reason=JourneyEnrollment.ExitReason.ERASED,
        exit_step=F("step"),
        finished_at=now,
    )
    JourneyEnrollment.objects.filter(customer=customer).update(context={})


def merge_campaign_rows(*, survivor: Customer, merged: Customer) -> None:
    """Before the merge moves every row to the survivor: memberships the survivor already has
    go (one row per segment and customer), the merged profile's scores and value go (the next
    RFM and CLV runs score the person on both profiles' orders). Everything else moves as it
    is."""
    survivor_in = SegmentMembership.objects.filter(
        customer=survivor, segment_id=OuterRef("segment_id")
    )
    SegmentMembership.objects.filter(customer=merged).filter(Exists(survivor_in)).delete()
    CustomerRfm.objects.filter(customer=merged).delete()
    # One row per campaign and customer: where both profiles were in a campaign's audience,
    # the survivor's row stays (the merged profile's message stays in the outbox).
    survivor_reached = CampaignRecipient.objects.filter(
        customer=survivor, campaign_id=OuterRef("campaign_id")
    )
    CampaignRecipient.objects.filter(customer=merged).filter(Exists(survivor_reached)).delete()
    CustomerValue.objects.filter(customer=merged).delete()
    # One enrollment per journey, customer and occasion: the survivor's stays.
    survivor_entered = JourneyEnrollment.objects.filter(
        customer=survivor, campaign_id=OuterRef("campaign_id"), occasion=OuterRef("occasion")
    )
    JourneyEnrollment.objects.filter(customer=merged).filter(Exists(survivor_entered)).delete()


def export_campaigns(*, customer: Customer) -> dict[str, Any]:
    """Everything campaigns holds about the customer, in 9 queries whatever the history."""
    return {
        **_segments_of(customer),
        **_value_of(customer),
        **_codes_of(customer),
        **_campaigns_of(customer),
        **_journeys_of(customer),
    }


def _journeys_of(customer: Customer) -> dict[str, Any]:
    """The journeys they entered, on what occasion, and where they stand. One query."""
    return {
        "journeys": list(
            JourneyEnrollment.objects.filter(customer=customer)
            .order_by("entered_at", "pk")
            .values(
                "campaign__name",
                "occasion",
                "context",
                "status",
                "exit_reason",
                "entered_at",
                "finished_at",
            )
        )
    }


def _campaigns_of(customer: Customer) -> dict[str, Any]:
    """The campaigns whose send reached them: their variant or the holdout, the channel, or
    why nothing was sent. One query."""
    return {
        "reached_by_campaigns": list(
            CampaignRecipient.objects.filter(customer=customer)
            .order_by("created_at", "pk")
            .values("campaign__name", "variant__code", "channel", "reason", "created_at")
        )
    }


def _value_of(customer: Customer) -> dict[str, Any]:
    """Their lifetime value as last computed (one query)."""
    value = (
        CustomerValue.objects.filter(customer=customer)
        .values(
            "orders",
            "online_orders",
            "store_orders",
            "revenue",
            "channel_mix",
            "first_purchase_on",
            "last_purchase_on",
            "expected_purchases_90d",
            "p_alive",
            "expected_spend",
            "predicted_clv",
            "fitted_at",
        )
        .first()
    )
    if value is None:
        return {"lifetime_value": None}
    money = {
        "revenue": str(value["revenue"]),
        "expected_spend": str(value["expected_spend"]),
        "predicted_clv": str(value["predicted_clv"]),
    }
    return {"lifetime_value": {**value, **money}}


def _segments_of(customer: Customer) -> dict[str, Any]:
    """The segments the customer is in, when they joined and left, and their RFM scores:
    3 queries whatever the history."""
    rfm = (
        CustomerRfm.objects.filter(customer=customer)
        .values(
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "cell",
            "computed_at",
        )
        .first()
    )
    return {
        "segments": list(
            SegmentMembership.objects.filter(customer=customer)
            .order_by("segment__name")
            .values("segment__name", "joined_at")
        ),
        "segment_history": list(
            SegmentChange.objects.filter(customer=customer)
            .order_by("changed_at", "pk")
            .values("segment__name", "kind", "changed_at")
        ),
        "rfm": {**rfm, "monetary": str(rfm["monetary"])} if rfm else None,
    }


def _codes_of(customer: Customer) -> dict[str, Any]:
    """Their personal codes, every use of a code and the codes they tried that were refused,
    in 3 queries whatever the history."""
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
        "refused_codes": list(
            RefusedCode.objects.filter(customer=customer)
            .order_by("created_at", "pk")
            .values("tried", "reason", "channel", "created_at")
        ),
    }
