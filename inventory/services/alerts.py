"""Low-stock alerts: one open alert per level below its reorder point, closed when it recovers.

"Below" is measured by the one rule online channels sell by (``selectors.sellable_units``):
on hand less reserved less safety stock, a lapsed cart hold no longer counting as reserved even
before the clean-up task releases it — otherwise every abandoned cart would raise an alert.
"""

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, F, QuerySet, Value
from django.utils import timezone

from inventory.models import LowStockAlert, StockLevel
from inventory.selectors import sellable_units

# Django has no INSERT ... SELECT: the SELECT is the ORM's, compiled. The partial unique index
# keeps one open alert per level.
_RAISE_ALERTS_SQL = """
INSERT INTO inventory_lowstockalert (level_id, available, reorder_point, raised_at)
{select}
ON CONFLICT (level_id) WHERE resolved_at IS NULL DO NOTHING
"""


def short_levels(now: datetime) -> QuerySet[StockLevel, Any]:
    """Levels with a reorder point whose sellable stock is below it, ``sellable`` annotated."""
    return (
        StockLevel.objects.filter(reorder_point__gt=0)
        .annotate(sellable=sellable_units(now=now))
        .filter(sellable__lt=F("reorder_point"))
    )


def raise_low_stock_alerts(*, now: datetime | None = None) -> tuple[int, int]:
    """Open an alert for every level below its reorder point and close the alerts of levels
    that recovered; returns (raised, resolved). Two statements whatever the size of the
    catalogue. Run by a beat task."""
    now = now or timezone.now()
    short = short_levels(now)
    with transaction.atomic():
        resolved = (
            LowStockAlert.objects.filter(resolved_at=None)
            .exclude(level__in=short.values("pk"))
            .update(resolved_at=now)
        )
        rows = short.order_by().values_list(
            "pk", "sellable", "reorder_point", Value(now, output_field=DateTimeField())
        )
        select, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(_RAISE_ALERTS_SQL.format(select=select), params)
            raised = cursor.rowcount
    return raised, resolved
