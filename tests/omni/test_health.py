"""/healthz: anyone gets up or down (200/503) and nothing more; staff also get the details
(database, broker, worker heartbeat). The broker is asked at most once per
HEALTH_BROKER_CHECK_SECONDS, so a flood of calls cannot open a broker connection each."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from django_celery_results.models import TaskResult

from omni.health import HEARTBEAT_TASK

pytestmark = pytest.mark.django_db

# Port 1 on loopback: nothing listens there, so the connection is refused at once.
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def fresh_broker_check():
    cache.clear()  # the broker's last answer is kept in the cache between calls
    yield
    cache.clear()


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_user("ops", is_staff=True))
    return client


def break_the_broker(monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", DEAD_BROKER)


def test_anyone_gets_up_and_nothing_else(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "up"}


def test_anyone_gets_down_without_the_error_when_the_broker_does_not_answer(client, monkeypatch):
    break_the_broker(monkeypatch)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "down"}


def test_a_signed_in_user_who_is_not_staff_gets_no_details(client):
    client.force_login(User.objects.create_user("shopper"))

    assert client.get("/healthz").json() == {"status": "up"}


def test_staff_see_the_postgresql_database_and_the_broker(staff_client):
    response = staff_client.get("/healthz")

    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "up"
    assert report["database"]["ok"] is True
    assert report["database"]["vendor"] == "postgresql"
    assert report["database"]["version"]
    assert report["broker"]["ok"] is True
    assert report["broker"]["transport"] == "filesystem"
    assert report["broker"]["checked_at"]


def test_staff_see_why_the_broker_is_down(staff_client, monkeypatch):
    break_the_broker(monkeypatch)

    response = staff_client.get("/healthz")

    assert response.status_code == 503, response.json()
    report = response.json()
    assert report["status"] == "down"
    assert report["broker"]["ok"] is False
    assert report["broker"]["transport"] == "redis"
    assert report["broker"]["error"]
    assert report["database"]["ok"] is True


def test_the_broker_is_asked_once_per_interval_however_many_calls(
    client, monkeypatch, time_machine
):
    time_machine.move_to("2026-03-02 09:00:00+00:00")
    assert client.get("/healthz").json() == {"status": "up"}
    break_the_broker(monkeypatch)

    # Within the interval nobody reaches the (now dead) broker: the first answer stands.
    time_machine.move_to("2026-03-02 09:00:14+00:00")
    answers = {client.get("/healthz").status_code for _ in range(20)}
    assert answers == {200}

    time_machine.move_to("2026-03-02 09:00:16+00:00")
    assert client.get("/healthz").json() == {"status": "down"}


def test_the_broker_interval_is_a_setting(client, monkeypatch, settings, time_machine):
    settings.HEALTH_BROKER_CHECK_SECONDS = 60
    time_machine.move_to("2026-03-02 09:00:00+00:00")
    client.get("/healthz")
    break_the_broker(monkeypatch)

    time_machine.move_to("2026-03-02 09:00:45+00:00")
    assert client.get("/healthz").status_code == 200
    time_machine.move_to("2026-03-02 09:01:01+00:00")
    assert client.get("/healthz").status_code == 503


def test_staff_see_when_a_worker_last_ran_the_heartbeat(staff_client):
    done = timezone.now() - timedelta(seconds=30)
    TaskResult.objects.create(task_id="beat-1", task_name=HEARTBEAT_TASK, status="SUCCESS")
    TaskResult.objects.filter(task_id="beat-1").update(date_done=done)  # date_done is auto_now

    worker = staff_client.get("/healthz").json()["worker"]

    assert worker == {"ok": True, "last_heartbeat": done.isoformat()}


def test_a_stale_heartbeat_shows_the_worker_as_down_without_failing_the_web_check(
    staff_client,
):
    TaskResult.objects.create(task_id="beat-1", task_name=HEARTBEAT_TASK, status="SUCCESS")
    TaskResult.objects.filter(task_id="beat-1").update(
        date_done=timezone.now() - timedelta(minutes=10)
    )

    response = staff_client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"]["ok"] is False
