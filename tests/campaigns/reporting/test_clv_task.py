"""The nightly CLV run (campaigns.compute_customer_values) in a real Celery worker process,
on the real clock, with the default settings (at least 100 repeat buyers)."""

import numpy as np
from django.utils import timezone

from campaigns import tasks
from campaigns.models import ClvFit, CustomerValue
from tests.campaigns.reporting.conftest import PURCHASES, SPEND
from tests.campaigns.reporting.simulation import simulate, write_orders


def test_a_worker_computes_the_customer_values(live_celery_worker):
    rng = np.random.default_rng(41)
    write_orders(
        simulate(PURCHASES, SPEND, 250, rng),
        first_days_ago=rng.integers(200, 701, 250),
        now=timezone.now(),
    )

    outcome = tasks.compute_customer_values.delay().get(timeout=120)

    fit = ClvFit.objects.get()
    assert outcome == {"customers": 250, "repeat_customers": fit.repeat_customers}
    assert fit.repeat_customers >= 100
    assert CustomerValue.objects.filter(fit=fit).count() == 250
