"""The Celery worker: every task runs in a real worker process in some test."""

import importlib
import inspect
import os
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_celery_results.models import TaskResult

from omni.celery import app
from omni.models import IdempotencyRecord
from omni.tasks import heartbeat, purge_idempotency_keys

# Each task, and the test that runs it through `live_celery_worker` and checks its effect in
# the database. A new task fails `test_every_task_has_a_test_in_a_real_worker` until it gets one.
TESTED_IN_A_REAL_WORKER = {
    "omni.tasks.heartbeat": "tests.omni.test_celery_worker::"
    "test_heartbeat_runs_in_a_real_worker_and_its_result_lands_in_the_database",
    "omni.purge_idempotency_keys": "tests.omni.test_celery_worker::"
    "test_a_worker_purges_idempotency_keys_past_their_time_to_live",
    "inventory.expire_cart_holds": "tests.inventory.test_tasks::"
    "test_a_worker_releases_lapsed_cart_holds",
    "inventory.raise_low_stock_alerts": "tests.inventory.test_tasks::"
    "test_a_worker_raises_low_stock_alerts",
    "orders.send_pickup_reminders": "tests.orders.test_tasks::"
    "test_a_worker_reminds_the_customer_a_day_before_a_pick_up_expires",
    "orders.expire_uncollected_pickups": "tests.orders.test_tasks::"
    "test_a_worker_expires_an_uncollected_pick_up",
    "orders.detect_wish_list_events": "tests.orders.test_wish_list_events::"
    "test_a_worker_records_a_price_drop_on_a_wish_list_once",
    "loyalty.mature_points": "tests.loyalty.test_tasks::"
    "test_a_worker_matures_points_whose_return_window_has_passed",
    "loyalty.expire_points": "tests.loyalty.test_tasks::"
    "test_a_worker_expires_points_past_their_date",
    "loyalty.evaluate_tiers": "tests.loyalty.test_tasks::"
    "test_a_worker_downgrades_a_tier_whose_spend_left_the_last_twelve_months",
    "loyalty.expire_stored_value": "tests.loyalty.test_stored_value_tasks::"
    "test_a_worker_expires_stored_value_past_the_programmes_rules",
    "customers.deliver_notification": "tests.customers.test_notifications::"
    "test_a_real_worker_delivers_the_message_after_commit",
    "customers.deliver_batch": "tests.customers.test_outbox_batches::"
    "test_a_real_worker_given_one_message_by_three_tasks_sends_it_once",
    "customers.release_waiting_notifications": "tests.customers.test_outbox_batches::"
    "test_a_worker_releases_a_waiting_message_whose_time_came_and_sends_it",
    "customers.requeue_stranded_notifications": "tests.customers.test_tasks::"
    "test_a_worker_queues_a_stranded_message_again_and_delivers_it",
    "customers.send_sign_up_email": "tests.customers.test_tasks::"
    "test_a_worker_e_mails_the_sign_up_link_once_the_request_is_committed",
    "customers.purge_expired_sign_up_requests": "tests.customers.test_tasks::"
    "test_a_worker_purges_expired_sign_up_requests",
    "customers.purge_expired_customer_tokens": "tests.customers.test_tasks::"
    "test_a_worker_purges_customer_tokens_unused_for_too_long",
    "campaigns.refresh_segments": "tests.campaigns.test_tasks::"
    "test_a_worker_refreshes_the_automatic_segments",
    "campaigns.refresh_rfm_scores": "tests.campaigns.test_tasks::"
    "test_a_worker_computes_the_rfm_scores",
    "campaigns.refresh_affinities": "tests.campaigns.test_tasks::"
    "test_a_worker_computes_what_is_bought_together",
    "campaigns.send_campaign": "tests.campaigns.test_campaign_tasks::"
    "test_a_worker_sends_a_campaign_once_however_often_its_task_runs",
    "campaigns.start_due_campaigns": "tests.campaigns.test_campaign_tasks::"
    "test_a_worker_starts_a_scheduled_campaign_whose_time_came",
    "campaigns.run_journeys": "tests.campaigns.test_journey_tasks::"
    "test_a_worker_runs_the_journeys_and_sends_each_step_once",
    "campaigns.compute_customer_values": "tests.campaigns.reporting.test_clv_task::"
    "test_a_worker_computes_the_customer_values",
    "campaigns.compute_attribution": "tests.campaigns.reporting.test_attribution_tasks::"
    "test_a_worker_computes_yesterdays_attribution",
}


def test_heartbeat_runs_in_a_real_worker_and_its_result_lands_in_the_database(
    live_celery_worker,
):
    result = heartbeat.delay()

    payload = result.get(timeout=60)

    assert payload["pid"] == live_celery_worker.pid
    assert payload["pid"] != os.getpid()
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "omni.tasks.heartbeat"


def test_a_worker_purges_idempotency_keys_past_their_time_to_live(live_celery_worker):
    def record(key: str, age: timedelta) -> None:
        IdempotencyRecord.objects.create(
            caller="anonymous",
            method="POST",
            path="/api/v1/events",
            key=key,
            request_hash="0" * 64,
            status_code=200,
            response_body={},
            created_at=timezone.now() - age,
        )

    ttl = timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    record("old", ttl + timedelta(minutes=5))
    record("recent", ttl - timedelta(hours=1))

    purged = purge_idempotency_keys.delay().get(timeout=60)

    assert purged == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def our_tasks() -> set[str]:
    app.loader.import_default_modules()  # every app's tasks module, as a worker does
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_task_has_a_test_in_a_real_worker():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled <= our_tasks()
    assert sorted(our_tasks() - TESTED_IN_A_REAL_WORKER.keys()) == [], "tasks with no test"
    assert sorted(TESTED_IN_A_REAL_WORKER.keys() - our_tasks()) == [], "tests of no task"
    for task, test in TESTED_IN_A_REAL_WORKER.items():
        module, name = test.split("::")
        function = getattr(importlib.import_module(module), name)
        assert "live_celery_worker" in inspect.signature(function).parameters, (task, test)
