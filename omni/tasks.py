"""Project-wide Celery tasks."""

import os
import socket

from celery import shared_task
from django.utils import timezone


@shared_task(name="omni.tasks.heartbeat")
def heartbeat() -> dict:
    """Proof of life for /healthz: its stored result says which worker ran it and when."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "at": timezone.now().isoformat()}


@shared_task(name="omni.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget the answers kept for idempotency keys once IDEMPOTENCY_KEY_TTL_HOURS have passed."""
    from omni.core.api.idempotency import purge_expired_idempotency_records

    return purge_expired_idempotency_records()
