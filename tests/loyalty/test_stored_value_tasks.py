"""The stored-value expiry run, in a real Celery worker process."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from loyalty import tasks
from loyalty.models import StoredValueCard, StoredValueEntry
from tests.loyalty.stored_value_factories import card_with, stored_value_programme


def test_a_worker_expires_stored_value_past_the_programmes_rules(live_celery_worker):
    stored_value_programme(expiry_months=None, inactivity_months=12)
    idle, busy = card_with("30"), card_with("45")
    # The worker runs on the real clock in its own process: age the idle card instead.
    StoredValueCard.objects.filter(pk=idle.pk).update(
        last_used_at=timezone.now() - timedelta(days=400)
    )

    expired = tasks.expire_stored_value.delay().get(timeout=60)

    assert expired == 1
    idle.refresh_from_db()
    busy.refresh_from_db()
    assert idle.balance == 0
    assert busy.balance == Decimal("45")
    assert StoredValueEntry.objects.filter(card=idle, kind="expiry").get().amount == Decimal("-30")
