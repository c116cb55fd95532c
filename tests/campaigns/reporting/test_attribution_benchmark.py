"""``manage.py benchmark_attribution`` builds its data in a schema of its own, times every
model and cleans up after itself (small scale here; figures not judged)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from campaigns.models import AttributionCredit
from customers.models import Customer, Touchpoint

pytestmark = pytest.mark.django_db


def test_the_benchmark_runs_at_small_scale_and_leaves_nothing_behind():
    out = io.StringIO()

    call_command("benchmark_attribution", customers=200, touchpoints=4000, days=7, stdout=out)

    printed = out.getvalue()
    assert "4,000 touchpoints" in printed
    assert "100 orders" in printed
    for part in ("journeys", *AttributionCredit.Model.values):
        assert f"s  {part}\n" in printed
    assert "removal effects: " in printed
    assert "Schema dropped." in printed
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'bench_attribution'")
        assert cursor.fetchone() == (0,)
        cursor.execute("SHOW search_path")
        assert "bench_attribution" not in cursor.fetchone()[0]
    assert not Customer.objects.exists()
    assert not Touchpoint.objects.exists()
    assert not AttributionCredit.objects.exists()
