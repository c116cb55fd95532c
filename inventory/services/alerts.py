"""Low-stock alerts: one open alert per level below its reorder point, closed when it recovers."""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from inventory.models import LowStockAlert

# One statement, whatever the size of the catalogue: Django has no INSERT ... SELECT.
# "Available" below the reorder point; the partial unique index keeps one open alert per level.
_RAISE_ALERTS_SQL = """
INSERT INTO inventory_lowstockalert (level_id, available, reorder_point, raised_at)
SELECT level.id,
       CASE WHEN level.on_hand - level.reserved - level.safety_stock > 0
            THEN level.on_hand - level.reserved - level.safety_stock ELSE 0 END,
       level.reorder_point,
       %s
FROM inventory_stocklevel AS level
WHERE level.reorder_point > 0
  AND level.on_hand - level.reserved - level.safety_stock < level.reorder_point
ON CONFLICT (level_id) WHERE resolved_at IS NULL DO NOTHING
"""


def raise_low_stock_alerts(*, now: datetime | None = None) -> tuple[int, int]:
    """Open an alert for every level below its reorder point and close the alerts of levels
    that recovered; returns (raised, resolved). Run by a beat task."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        recovered = LowStockAlert.objects.filter(resolved_at=None).filter(
            Q(level__reorder_point=0)
            | Q(
                level__on_hand__gte=F("level__reserved")
                + F("level__safety_stock")
                + F("level__reorder_point")
            )
        )
        resolved = recovered.update(resolved_at=now)
        cursor.execute(_RAISE_ALERTS_SQL, [now])
        raised = cursor.rowcount
    return raised, resolved
