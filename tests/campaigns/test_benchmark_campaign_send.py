"""``manage.py benchmark_campaign_send`` makes its customers, sends them a campaign and cleans
up after itself (small scale, in this process; figures not judged)."""

import io

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Campaign, Segment
from customers.models import Customer, Notification
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_benchmark_sends_at_small_scale_and_leaves_nothing_behind():
    out = io.StringIO()

    call_command(
        "benchmark_campaign_send", customers=120, batch_size=50, in_process=True, stdout=out
    )

    printed = out.getvalue()
    assert "first batch: 50 recipients, 50 queued" in printed
    assert "120 messages queued for 120 recipients (completed)" in printed
    assert "cleaned up" in printed
    assert not Customer.objects.exists()
    assert not Notification.objects.exists()
    assert not Campaign.objects.exists()
    assert not Segment.objects.exists()


def test_the_benchmark_refuses_a_database_with_customers():
    CustomerFactory()

    with pytest.raises(CommandError, match="throwaway"):
        call_command("benchmark_campaign_send", customers=10, in_process=True)
