from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from omni.health import HEARTBEAT_TASK

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_postgresql_database_and_the_broker_as_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["database"]["ok"] is True
    assert report["database"]["vendor"] == "postgresql"
    assert report["database"]["version"]
    assert report["broker"] == {"ok": True, "transport": "filesystem"}


def test_healthz_is_unavailable_when_the_broker_does_not_answer(client, monkeypatch):
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503, response.json()
    report = response.json()
    assert report["status"] == "unavailable"
    assert report["broker"]["ok"] is False
    assert report["broker"]["transport"] == "redis"
    assert report["broker"]["error"]
    assert report["database"]["ok"] is True


def test_healthz_shows_when_a_worker_last_ran_the_heartbeat(client):
    done = timezone.now() - timedelta(seconds=30)
    TaskResult.objects.create(task_id="beat-1", task_name=HEARTBEAT_TASK, status="SUCCESS")
    TaskResult.objects.filter(task_id="beat-1").update(date_done=done)  # date_done is auto_now

    worker = client.get("/healthz").json()["worker"]

    assert worker == {"ok": True, "last_heartbeat": done.isoformat()}


def test_a_stale_heartbeat_shows_the_worker_as_down_without_failing_the_web_check(client):
    TaskResult.objects.create(task_id="beat-1", task_name=HEARTBEAT_TASK, status="SUCCESS")
    TaskResult.objects.filter(task_id="beat-1").update(
        date_done=timezone.now() - timedelta(minutes=10)
    )

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"]["ok"] is False
