"""What counts as a campaign's conversion, in one place for its results, its delivery funnel
and the choice of its winner: a recipient converted when they placed a purchase (any channel,
any status but cancelled or expired) within the campaign's conversion window after their
message was due (queued, or its local send time); revenue is those orders' totals."""

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery, Sum
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce

from campaigns.models import Campaign
from campaigns.rules import relations


def orders_in_window(campaign: Campaign, *, customer: str = "customer") -> QuerySet[Any, Any]:
    """A recipient's purchases within the window after their message was due (the ``due``
    annotation ``with_conversions`` adds); ``customer`` names the recipient's customer."""
    return relations.order_model()._default_manager.filter(
        customer=OuterRef(customer),
        status__in=relations.purchase_statuses(),
        placed_at__gte=OuterRef("due"),
        placed_at__lt=OuterRef("due") + timedelta(days=campaign.conversion_window_days),
    )


def with_conversions(
    recipients: QuerySet[Any, Any],
    campaign: Campaign,
    *,
    customer: str = "customer",
    due: Combinable | None = None,
) -> QuerySet[Any, Any]:
    """Recipients with ``converted`` (they bought in the window) and ``spent`` (how much).
    ``customer`` leads to the recipient's customer; ``due`` is when their message was due
    (a campaign recipient's local send time, else when it was queued)."""
    orders = orders_in_window(campaign, customer=customer)
    when: Combinable = due if due is not None else Coalesce("not_before", "created_at")
    annotated: QuerySet[Any, Any] = recipients.annotate(due=when).annotate(
        converted=Exists(orders),
        spent=Subquery(
            orders.order_by().values("customer").annotate(s=Sum("total")).values("s")[:1]
        ),
    )
    return annotated
