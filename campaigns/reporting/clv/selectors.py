"""Reads of the CLV results shared by the admin and whoever reports on them: the latest fit,
customer values compared by channel mix, the calibration report as rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, QuerySet, Sum

from campaigns.models import ClvFit, CustomerValue
from campaigns.reporting.clv.calibration import COLUMNS


def latest_fit() -> ClvFit | None:
    return ClvFit.objects.order_by("-fitted_at", "-pk").first()


def customer_values() -> QuerySet[CustomerValue]:
    return CustomerValue.objects.select_related("customer")


def value_by_channel_mix(fit: ClvFit) -> list[dict[str, Any]]:
    """Per channel mix (online only, store only, omnichannel) of the fit's customers: how many,
    their revenue to date (total and mean), the margin of those whose margin is known (total and
    how many), mean predicted CLV and P(alive). One query."""
    rows = (
        CustomerValue.objects.filter(fit=fit)
        .values("channel_mix")
        .annotate(
            customers=Count("pk"),
            total_revenue=Sum("revenue"),
            mean_revenue=Avg("revenue"),
            total_margin=Sum("margin"),
            with_margin=Count("margin"),
            mean_clv=Avg("predicted_clv"),
            mean_p_alive=Avg("p_alive"),
        )
        .order_by("channel_mix")
    )
    labels = dict(CustomerValue.ChannelMix.choices)
    return [{**row, "label": labels.get(row["channel_mix"], row["channel_mix"])} for row in rows]


def calibration_rows(fit: ClvFit) -> list[list[Any]]:
    """The calibration report as a table, header first (for the admin and its CSV)."""
    return [list(COLUMNS)] + [[row.get(c, "") for c in COLUMNS] for row in fit.calibration]
