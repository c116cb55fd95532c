"""Marketers run campaigns in the admin: content per channel with variants inline (unknown
personalisation refused on the field), the SMS length shown, the life actions behind their own
permission, a locked campaign read-only, a preview for a chosen customer and a test send."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core import mail

from campaigns import services
from campaigns.models import Campaign
from customers.models import Notification
from tests.campaigns.campaign_factories import CONTENT, audience, campaign, shopper
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/admin/campaigns/campaign/"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services.lifecycle, "_queue_send", lambda pk: None)


def marketer(client, *extra):
    user = UserFactory(
        is_staff=True,
        email="marketer@omni.example",
        permissions=[
            "campaigns.view_campaign",
            "campaigns.add_campaign",
            "campaigns.change_campaign",
            "campaigns.view_campaignvariant",
            "campaigns.add_campaignvariant",
            "campaigns.change_campaignvariant",
            *extra,
        ],
    )
    client.force_login(user)
    return user


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(segment, **variant) -> dict:
    data = {
        "name": "Spring",
        "segment": segment.pk,
        "channels": "sms, email",
        "offer": "",
        "coupon": "",
        "code_batch": "",
        "kind": "one_off",
        "send_at_0": "",
        "send_at_1": "",
        "holdout_percent": "0",
        "conversion_window_days": "7",
        "test_percent": "0",
        "winner_after_hours": "",
        "winner_metric": "click",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-code": "A",
        "variants-0-weight": "1",
    }
    data.update({f"variants-0-{name}": value for name, value in {**CONTENT, **variant}.items()})
    return data


def test_a_marketer_writes_a_campaign_with_its_content_and_channel_order(client):
    marketer(client)
    segment = audience([])

    page = client.post(f"{CAMPAIGNS}add/", form_data(segment))

    assert page.status_code == 302, page.context["errors"] if page.context else page
    made = Campaign.objects.get()
    assert made.channels == ["sms", "email"]
    assert made.variants.get().sms_text == CONTENT["sms_text"]


def test_testing_first_is_set_in_the_admin_and_a_missing_winner_time_is_refused(client):
    marketer(client)
    segment = audience([])

    refused = client.post(f"{CAMPAIGNS}add/", {**form_data(segment), "test_percent": "20"})

    assert refused.status_code == 200
    assert "winner_after_hours" in refused.context["adminform"].form.errors
    assert not Campaign.objects.exists()
    data = {**form_data(segment), "test_percent": "20", "winner_after_hours": "6"}
    saved = client.post(f"{CAMPAIGNS}add/", {**data, "winner_metric": "conversion"})
    assert saved.status_code == 302
    made = Campaign.objects.get()
    assert (made.test_percent, made.winner_after_hours, made.winner_metric) == (
        20,
        6,
        "conversion",
    )
    page = client.get(f"{CAMPAIGNS}{made.pk}/change/")
    assert "Chosen once the test share is sent" in page.content.decode()


def test_an_unknown_personalisation_field_is_refused_on_the_field(client):
    marketer(client)

    page = client.post(f"{CAMPAIGNS}add/", form_data(audience([]), sms_text="Hi {{ email }}"))

    assert page.status_code == 200
    assert "Unknown variable" in page.content.decode()
    assert not Campaign.objects.exists()


def test_the_sms_length_and_parts_are_shown(client):
    marketer(client)
    spring = campaign()
    spring.variants.update(sms_text="x" * 161)

    page = client.get(f"{CAMPAIGNS}{spring.pk}/change/")

    assert "161 characters, 2 parts (GSM-7, 153 per part)" in page.content.decode()


def test_a_running_campaign_is_read_only_in_the_admin(client):
    marketer(client)
    spring = campaign([shopper("Anna", "email")])
    services.start_campaign(campaign=spring)

    page = client.get(f"{CAMPAIGNS}{spring.pk}/change/")
    client.post(f"{CAMPAIGNS}{spring.pk}/change/", form_data(spring.segment, sms_text="Changed"))

    html = page.content.decode()
    assert 'name="name"' not in html
    assert 'name="variants-0-sms_text"' not in html
    spring.refresh_from_db()
    assert spring.variants.get().sms_text == CONTENT["sms_text"]


def test_life_actions_need_their_own_permission(client):
    marketer(client)
    spring = campaign([shopper("Anna", "email")])

    page = client.get(CAMPAIGNS)

    assert 'value="start"' not in page.content.decode()
    client.post(CAMPAIGNS, {"action": "start", ACTION_CHECKBOX_NAME: [spring.pk]})
    spring.refresh_from_db()
    assert spring.status == "draft"


def test_actions_move_a_campaign_and_show_refusals(client):
    marketer(client, "campaigns.run_campaign")
    ready = campaign([shopper("Anna", "email")], name="Ready")
    empty = Campaign.objects.create(name="Empty")

    page = client.post(
        CAMPAIGNS, {"action": "start", ACTION_CHECKBOX_NAME: [ready.pk, empty.pk]}, follow=True
    )

    ready.refresh_from_db()
    empty.refresh_from_db()
    assert (ready.status, empty.status) == ("running", "draft")
    assert "Empty: The campaign is not ready to send." in said(page)
    assert "1 campaign started." in said(page)


def test_the_preview_renders_each_channel_for_a_customer_found_by_e_mail(client):
    marketer(client)
    anna = shopper("Anna", "email")
    spring = campaign([anna])

    page = client.get(f"{CAMPAIGNS}{spring.pk}/preview/", {"customer": anna.email})
    missing = client.get(f"{CAMPAIGNS}{spring.pk}/preview/", {"customer": "no@example.com"})

    html = page.content.decode()
    assert "Anna, spring is here" in html
    assert "Hi Anna: " in html
    assert "sent by email" in html
    assert "characters, 1 part (GSM-7" in html
    assert "No customer has this public id or e-mail." in missing.content.decode()


def test_a_test_send_e_mails_the_marketer_and_not_the_customer(client):
    marketer(client)
    anna = shopper("Anna", "email")
    spring = campaign([anna])

    client.post(
        f"{CAMPAIGNS}{spring.pk}/preview/",
        {"customer": str(anna.public_id), "test_send": "1"},
    )

    [sent] = mail.outbox
    assert sent.to == ["marketer@omni.example"]
    assert sent.subject == "[Test] Anna, spring is here"
    assert sent.alternatives[0][0] == "<p>Hello Anna, use </p>"
    assert not Notification.objects.exists()


def test_the_campaign_page_shows_progress_and_results_per_variant(client):
    marketer(client)
    anna = shopper("Anna", "email")
    spring = campaign([anna])
    services.start_campaign(campaign=spring)
    services.send_campaign(campaign_id=spring.pk)

    html = client.get(f"{CAMPAIGNS}{spring.pk}/change/").content.decode()

    assert "1 reached: 1 queued, 0 suppressed, 0 not reachable, 0 held out" in html
    assert "<td>A</td><td>1</td><td>0</td><td>0.00%</td><td>0.00</td><td>-</td>" in html
