"""Health of the parts Omni cannot run without: the database and the Celery broker."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult

from omni.celery import app as celery_app

HEARTBEAT_TASK = "omni.tasks.heartbeat"
# Beat sends a heartbeat every minute; three missed ones mean no worker is consuming.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


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


def health_report() -> tuple[bool, dict]:
    """(healthy, report). Healthy means the database and the broker both answer."""
    report = {"database": check_database(), "broker": check_broker()}
    healthy = report["database"]["ok"] and report["broker"]["ok"]
    report["worker"] = check_worker() if report["database"]["ok"] else {"ok": False}
    report["status"] = "ok" if healthy else "unavailable"
    return healthy, report
