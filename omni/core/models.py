"""Tables of the kernel's own mechanisms (the answers kept for idempotent API calls). They
belong to the ``omni`` app (``omni/models.py`` imports them), so their migrations live there."""

from django.db import models
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder


class IdempotencyRecord(models.Model):
    """The first answer to a state-changing API call sent with an ``Idempotency-Key``.

    Written in the same transaction as the call's own changes (``omni.core.api.idempotency``), so
    other requests never see a record without its answer, and a call that crashed leaves none.
    """

    # Who called: "storefront:<key id>:" + "customer:<customer id>", "cart:<SHA-256 of the
    # guest's X-Cart-Token>" or "anonymous"; or "user:<id>" for staff.
    caller = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=1000)
    key = models.CharField(max_length=100)
    # SHA-256 of the query string and the (canonical JSON) body: a reused key is told apart.
    request_hash = models.CharField(max_length=64)
    # Empty only inside the transaction that runs the call; committed with the answer.
    status_code = models.PositiveSmallIntegerField(null=True)
    # DRF's encoder, so a replay has the very JSON the first answer had.
    response_body = models.JSONField(null=True, encoder=JSONEncoder)
    response_headers = models.JSONField(default=dict, encoder=JSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        app_label = "omni"  # its table and migrations stay the omni app's
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "key", "method", "path"], name="idempotency_one_call_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] by {self.caller}"
