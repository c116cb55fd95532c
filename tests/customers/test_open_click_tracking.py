"""Opens and clicks come back as touchpoints and on the message: a pixel and signed redirect
links that cannot be pointed anywhere else; floods count once, forgeries not at all."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from uuid import uuid4

import pytest

from customers.models import Notification, Touchpoint
from customers.notifications import open_pixel_url, tracked_link
from omni.core.errors import InvalidInput
from tests.customers.outbox import consenting_customer, marketing

NOON = datetime(2026, 6, 10, 12, tzinfo=UTC)
SALE = "https://shop.example.com/sale?utm_source=email"

pytestmark = pytest.mark.django_db


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def message(time_machine) -> Notification:
    time_machine.move_to(NOON, tick=False)
    return marketing(consenting_customer(), "spring:camille", source="campaign:spring-2027")


def test_opening_records_a_touchpoint_and_the_first_open(client, message, time_machine):
    pixel = client.get(local(open_pixel_url(message)))
    time_machine.move_to(NOON + timedelta(minutes=1), tick=False)
    client.get(local(open_pixel_url(message)))

    assert pixel.status_code == 200
    assert pixel["Content-Type"] == "image/gif"
    (opened,) = Touchpoint.objects.all()
    assert (opened.kind, opened.customer, opened.campaign_code) == (
        Touchpoint.Kind.EMAIL_OPEN,
        message.customer,
        "spring-2027",
    )
    message.refresh_from_db()
    assert message.opened_at == NOON


def test_a_flood_of_opens_counts_once_per_window(client, message, time_machine):
    for _ in range(20):
        client.get(local(open_pixel_url(message)))
    time_machine.move_to(NOON + timedelta(minutes=15), tick=False)
    client.get(local(open_pixel_url(message)))

    assert Touchpoint.objects.filter(kind=Touchpoint.Kind.EMAIL_OPEN).count() == 2
    message.refresh_from_db()
    assert message.opened_at == NOON  # the first time only


def test_a_click_redirects_and_is_recorded(client, message):
    response = client.get(local(tracked_link(message, SALE)))

    assert response.status_code == 302
    assert response["Location"] == SALE
    (clicked,) = Touchpoint.objects.all()
    assert (clicked.kind, clicked.url, clicked.campaign_code) == (
        Touchpoint.Kind.EMAIL_CLICK,
        SALE,
        "spring-2027",
    )
    message.refresh_from_db()
    assert message.clicked_at == message.opened_at == NOON


def test_the_target_cannot_be_changed(client, message):
    link = local(tracked_link(message, SALE))
    elsewhere = link.replace("shop.example.com", "evil.example.net")

    assert client.get(elsewhere).status_code == 404
    assert client.get(link.split("?")[0]).status_code == 404  # no target at all
    assert not Touchpoint.objects.exists()
    message.refresh_from_db()
    assert message.clicked_at is None


def test_forged_or_unknown_tokens_get_404_and_write_nothing(client, message):
    pixel = local(open_pixel_url(message))
    link = local(tracked_link(message, SALE))
    token = pixel.split("/")[3].removesuffix(".gif")

    assert client.get(pixel.replace(token, token[:-3] + "abc")).status_code == 404
    assert client.get("/m/o/nonsense.gif").status_code == 404
    # A pixel's token is not a link's: each purpose has its own salt.
    assert client.get(link.replace(link.split("/")[3].split("?")[0], token)).status_code == 404
    assert not Touchpoint.objects.exists()


def test_only_web_links_can_be_tracked(message):
    with pytest.raises(InvalidInput):
        tracked_link(message, "javascript:alert(1)")


def test_nothing_is_recorded_about_an_erased_customer(client, message):
    from customers.services import erase_customer

    pixel = local(open_pixel_url(message))
    erase_customer(customer=message.customer, requested_via="admin")

    assert client.get(pixel).status_code == 200
    assert not Touchpoint.objects.exists()


def test_links_made_before_the_message_is_recorded_count_for_it(client, time_machine):
    """The renderer writes the body, links included, before ``notify`` records the row."""
    time_machine.move_to(NOON, tick=False)
    public_id = uuid4()
    link = tracked_link(public_id, SALE)
    message = marketing(
        consenting_customer(),
        "spring:rendered",
        html_body=f'<a href="{link}">Sale</a><img src="{open_pixel_url(public_id)}">',
        public_id=public_id,
    )

    assert client.get(local(link)).status_code == 302

    message.refresh_from_db()
    assert message.public_id == public_id
    assert message.clicked_at == NOON
