"""``manage.py benchmark_segments`` builds its data in a schema of its own, refreshes the
representative segments and cleans up after itself (small scale here; figures not judged)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from campaigns.models import Segment
from customers.models import Customer, Touchpoint

pytestmark = pytest.mark.django_db


def test_the_benchmark_runs_at_small_scale_and_leaves_nothing_behind():
    out = io.StringIO()

    call_command("benchmark_segments", customers=300, touchpoints=3000, stdout=out)

    printed = out.getvalue()
    assert "300 customers" in printed
    assert "3,000 touchpoints" in printed
    assert "RFM scores" in printed
    assert printed.count("Recent big spenders:") == 2  # first and second refresh
    assert "25-34 in Paris, bought footwear, not in the big spenders:" in printed
    assert "Schema dropped." in printed
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'bench_segments'")
        assert cursor.fetchone() == (0,)
        cursor.execute("SHOW search_path")
        assert "bench_segments" not in cursor.fetchone()[0]
    assert not Customer.objects.exists()
    assert not Touchpoint.objects.exists()
    assert not Segment.objects.exists()
