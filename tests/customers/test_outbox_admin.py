"""Staff set the frequency caps and read the outbox by status and reason in the admin."""

from datetime import UTC, datetime

import pytest

from customers.models import FrequencyCap, Notification
from tests.customers.outbox import consenting_customer, marketing

pytestmark = pytest.mark.django_db


def test_staff_set_a_cap_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/customers/frequencycap/add/",
        {"channel": "sms", "max_messages": "1", "period_days": "7"},
    )
    refused = admin_client.post(
        "/admin/customers/frequencycap/add/",
        {"channel": "", "max_messages": "0", "period_days": "7"},
    )

    assert response.status_code == 302
    assert refused.status_code == 200  # a cap of no message at all is refused
    assert [str(cap) for cap in FrequencyCap.objects.all()] == ["1 per 7 days on SMS"]


def test_the_outbox_is_filtered_by_status_and_reason(admin_client, settings, time_machine):
    settings.MARKETING_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(datetime(2026, 6, 10, 22, tzinfo=UTC), tick=False)
    FrequencyCap.objects.create(channel="", max_messages=1, period_days=7)
    camille = consenting_customer()
    waiting = marketing(camille, "spring:1", source="campaign:spring")
    capped = marketing(camille, "shoes:1", source="campaign:shoes")

    by_status = admin_client.get("/admin/customers/notification/", {"status": "waiting"})
    by_reason = admin_client.get("/admin/customers/notification/", {"suppression_reason": "capped"})
    by_source = admin_client.get("/admin/customers/notification/", {"q": "campaign:shoes"})
    page = admin_client.get(f"/admin/customers/notification/{waiting.pk}/change/")

    assert list(by_status.context["cl"].result_list) == [waiting]
    assert list(by_reason.context["cl"].result_list) == [capped]
    assert list(by_source.context["cl"].result_list) == [capped]
    assert capped.status == Notification.Status.SUPPRESSED
    assert b"quiet hours" in page.content.lower()
