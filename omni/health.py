"""Health of the parts Omni cannot run without: the database and the Celery broker.

Anyone may ask whether Omni is up; only staff see the details (versions, errors, the worker's
heartbeat). The broker is asked at most once per ``HEALTH_BROKER_CHECK_SECONDS`` and the answer
shared through the cache, so a flood of calls cannot open a broker connection each."""

import contextlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from omni.celery import app as celery_app

HEARTBEAT_TASK = "omni.tasks.heartbeat"
# Beat sends a heartbeat every minute; three missed ones mean no worker is consuming.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)
BROKER_CHECK_CACHE_KEY = "omni:health:broker"

log = logging.getLogger(__name__)


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"; report it, don't crash
        return {"ok": False, "vendor": connection.vendor, "error": str(error)}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "version": ".".join(str(part) for part in connection.get_database_version()),
    }


def check_broker() -> dict:
    transport = celery_app.conf.broker_url.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            broker.default_channel.queue_declare(queue="celery", passive=False, durable=True)
    except Exception as error:  # kombu raises transport-specific errors
        return {"ok": False, "transport": transport, "error": str(error)}
    return {"ok": True, "transport": transport}


def check_worker() -> dict:
    """When a worker last ran the heartbeat task; informative, not a reason to fail."""
    last = (
        TaskResult.objects.filter(task_name=HEARTBEAT_TASK, status="SUCCESS")
        .order_by("-date_done")
        .values_list("date_done", flat=True)
        .first()
    )
    if last is None:
        return {"ok": False, "last_heartbeat": None}
    return {
        "ok": timezone.now() - last < HEARTBEAT_STALE_AFTER,
        "last_heartbeat": last.isoformat(),
    }


def recent_broker_check() -> dict:
    """The broker's last answer if it is younger than ``HEALTH_BROKER_CHECK_SECONDS``, else a
    new one (kept for the next callers of every web process sharing the cache)."""
    try:
        cached = cache.get(BROKER_CHECK_CACHE_KEY)
    except Exception:  # a cache that does not answer (Redis down) must not fail the check
        log.warning("Health: the cache does not answer; asking the broker directly.")
        cached = None
    if cached is not None:
        return cached
    result = {**check_broker(), "checked_at": timezone.now().isoformat()}
    with contextlib.suppress(Exception):  # as above: the answer is right, only not shared
        cache.set(BROKER_CHECK_CACHE_KEY, result, settings.HEALTH_BROKER_CHECK_SECONDS)
    return result


def health_report(*, details: bool) -> tuple[bool, dict[str, Any]]:
    """(healthy, report). Healthy means the database and the broker both answer. The report is
    ``{"status": "up"|"down"}``, with each part's details (and the worker's) when ``details``."""
    database, broker = check_database(), recent_broker_check()
    healthy = database["ok"] and broker["ok"]
    report: dict[str, Any] = {"status": "up" if healthy else "down"}
    if details:
        report["database"] = database
        report["broker"] = broker
        report["worker"] = check_worker() if database["ok"] else {"ok": False}
    return healthy, report
