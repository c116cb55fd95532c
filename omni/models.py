"""Project-wide tables that belong to no one app: the answers kept for idempotent API calls
(defined in the kernel, ``omni.core.models``, which uses them) and which store each clerk
works for."""

from django.conf import settings
from django.db import models

from omni.core.models import IdempotencyRecord

__all__ = ["IdempotencyRecord", "StoreAssignment"]


class StoreAssignment(models.Model):
    """The one store a clerk works for: the clerk dashboard shows and acts on its orders."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_assignment"
    )
    store = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="clerk_assignments",
        limit_choices_to={"kind": "store"},
    )
    assigned_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} at {self.store}"
