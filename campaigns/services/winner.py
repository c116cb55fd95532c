"""Send the winner: a campaign that tests first sends its variants to a test share of the
audience (``Campaign.test_percent``, after the holdout), waits ``winner_after_hours``, then sends
the best variant to the rest. "Best" is the highest rate of the campaign's ``winner_metric``
among each variant's test recipients — clicks, e-mail opens, or orders in the conversion window
(``conversions``) — counted by intent to treat (everyone assigned to the variant counts,
reached or not); a tie goes to the variant first by code, so the choice is the same on every
run.

The send (``services.sending``) skips the rest until a winner is set and, once the test share
is done, sets ``winner_due_at``; the beat's ``start_due_campaigns`` calls ``choose_due_winners``,
which chooses under the campaign's lock and sends again from the start of the audience (everyone
already reached is skipped).
"""

from datetime import datetime, timedelta

from django.db.models import Count, Q

from campaigns.models import Campaign, CampaignRecipient, CampaignVariant
from campaigns.services.conversions import with_conversions


def test_rates(campaign: Campaign) -> dict[str, tuple[int, int]]:
    """Per variant code: (recipients, those who did what the metric counts). One query."""
    recipients = CampaignRecipient.objects.filter(campaign=campaign).exclude(variant=None)
    metric = campaign.winner_metric
    if metric == Campaign.WinnerMetric.CLICK:
        success = Q(notification__clicked_at__isnull=False)
    elif metric == Campaign.WinnerMetric.OPEN:
        success = Q(notification__opened_at__isnull=False)
    else:
        recipients = with_conversions(recipients, campaign)
        success = Q(converted=True)
    return {
        row["variant__code"]: (row["recipients"], row["successes"])
        for row in recipients.values("variant__code")
        .annotate(recipients=Count("pk"), successes=Count("pk", filter=success))
        .order_by()
    }


def best_variant(campaign: Campaign) -> CampaignVariant:
    """The variant with the highest rate; the first by code on a tie or with no data."""
    rates = test_rates(campaign)

    def rate(variant: CampaignVariant) -> float:
        recipients, successes = rates.get(variant.code, (0, 0))
        return successes / recipients if recipients else 0.0

    variants = sorted(campaign.variants.all(), key=lambda variant: variant.code)
    return max(variants, key=rate)  # max keeps the first of equals


def winner_due(campaign: Campaign, *, now: datetime) -> datetime:
    assert campaign.winner_after_hours is not None
    return now + timedelta(hours=campaign.winner_after_hours)
