from io import StringIO

import pytest
from django.core.management import call_command

from customers.models import StorefrontKey, Touchpoint
from customers.selectors import storefront_key_for

pytestmark = pytest.mark.django_db


def test_create_storefront_key_prints_a_working_key_once_and_stores_its_hash():
    out, err = StringIO(), StringIO()

    call_command(
        "create_storefront_key", "--channel", "android", "--name", "App", stdout=out, stderr=err
    )

    raw = out.getvalue().strip()
    key = StorefrontKey.objects.get()
    assert storefront_key_for(raw) == key
    assert key.channel == "android"
    assert raw not in key.key_hash
    assert "only time" in err.getvalue()


def test_the_ingestion_benchmark_prints_events_per_second_and_cleans_up():
    out = StringIO()

    call_command(
        "benchmark_ingestion",
        "--events",
        "120",
        "--batch-size",
        "50",
        stdout=out,
        stderr=StringIO(),
    )

    assert "120 events" in out.getvalue()
    assert "events per second" in out.getvalue()
    assert not Touchpoint.objects.exists()
    assert StorefrontKey.objects.get().revoked_at is not None
