"""The send: each member planned once (variant or holdout, the first reachable channel of the
campaign's order, a code), one outbox message per reachable recipient through ``notify``, a row
per recipient with the reason when nothing was sent; resumable, idempotent, bounded in
queries."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine

from campaigns import services
from campaigns.models import Campaign, CampaignRecipient, Coupon, ProductAffinity
from customers.models import Notification, Touchpoint
from tests.campaigns.campaign_factories import campaign, reachable, shopper
from tests.campaigns.factories import member, order
from tests.campaigns.offer_factories import coupon, offer
from tests.inventory.factories import LocationFactory, ProductFactory, SkuFactory
from tests.loyalty.factories import programme

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services.lifecycle, "_queue_send", lambda pk: None)


def run(spring: Campaign, *, batch_size: int = 100) -> services.BatchResult:
    services.start_campaign(campaign=spring)
    return services.send_campaign(campaign_id=spring.pk, batch_size=batch_size)


def receipt(spring: Campaign, customer) -> CampaignRecipient:
    return CampaignRecipient.objects.get(campaign=spring, customer=customer)


def test_each_customer_gets_the_first_channel_they_can_be_reached_on():
    app_user = shopper("Anna", "push", "email", device="ios-anna")
    no_app = shopper("Ben", "push", "email")  # consented to push but has no app
    texter = shopper("Chloe", "sms", phone="+33600000001")
    nothing = shopper("David")  # no consent at all
    withdrawn = shopper("Eve", "email")
    reachable_later = shopper("Farid", "sms")  # consented to SMS, no phone
    spring = campaign([app_user, no_app, texter, nothing, withdrawn, reachable_later])
    withdrawn.consents.create(
        channel="email",
        purpose="marketing",
        granted=False,
        source_channel="web",
        recorded_at=NOW - timedelta(minutes=5),
    )

    result = run(spring)

    everyone = [app_user, no_app, texter, nothing, withdrawn, reachable_later]
    assert {c.first_name: receipt(spring, c).channel for c in everyone} == {
        "Anna": "push",
        "Ben": "email",
        "Chloe": "sms",
        "David": "",
        "Eve": "",
        "Farid": "",
    }
    assert receipt(spring, nothing).reason == CampaignRecipient.Reason.NO_CHANNEL
    assert receipt(spring, nothing).notification is None
    assert (result.reached, result.queued, result.unreachable) == (6, 3, 3)


def test_a_message_goes_through_the_outbox_with_its_key_and_context():
    anna = shopper("Anna", "email")
    spring = campaign([anna])

    run(spring)

    message = Notification.objects.get(customer=anna)
    assert message.idempotency_key == f"campaign:{spring.public_id}:{anna.public_id}"
    assert (message.kind, message.purpose, message.channel) == ("marketing", "marketing", "email")
    assert message.status == Notification.Status.QUEUED
    assert message.subject == "Anna, spring is here"
    assert message.context == {"campaign": str(spring.public_id), "variant": "A"}
    assert message.source == f"campaign:{spring.public_id}"
    assert message.html_body.startswith("<p>Hello Anna, use </p><img src=")
    assert "/m/o/" in message.html_body  # the open pixel, under the row's own public id
    assert receipt(spring, anna).notification == message


def test_an_e_mails_links_are_tracked_and_a_click_is_credited_to_the_campaign(client):
    anna = shopper("Anna", "email")
    spring = campaign([anna])
    spring.variants.update(
        email_html='<p><a href="https://shop.example/spring?a=1&amp;b=2">Shop</a> '
        '<a href="mailto:help@shop.example">Help</a></p>'
    )

    run(spring)

    html = Notification.objects.get(customer=anna).html_body
    [tracked] = re.findall(r'href="([^"]*/m/c/[^"]*)"', html)
    assert 'href="mailto:help@shop.example"' in html  # only http(s) links go through us
    answer = client.get(unescape(tracked))
    assert (answer.status_code, answer["Location"]) == (302, "https://shop.example/spring?a=1&b=2")
    click = Touchpoint.objects.get(kind="email_click")
    assert (click.customer, click.campaign_code) == (anna, str(spring.public_id))


def test_the_holdout_gets_nothing_but_is_recorded():
    customers = [shopper(f"P{n}", "email") for n in range(40)]
    spring = campaign(customers, holdout_percent=Decimal("50"), variants=("A", "B"))

    result = run(spring)

    held = CampaignRecipient.objects.filter(campaign=spring, reason="holdout")
    assert held.count() == result.held_out > 0
    assert not held.exclude(variant=None).exists()
    assert not Notification.objects.filter(customer__in=held.values("customer")).exists()
    assert Notification.objects.count() == 40 - result.held_out
    assert set(
        CampaignRecipient.objects.filter(campaign=spring, variant__isnull=False).values_list(
            "variant__code", flat=True
        )
    ) == {"A", "B"}
    # Each variant's message is its own: the variant is in the context.
    for row in CampaignRecipient.objects.filter(campaign=spring).exclude(reason="holdout"):
        assert row.notification.context["variant"] == row.variant.code


def test_assignment_matches_the_hash_so_the_preview_and_the_results_agree():
    customers = [shopper(f"P{n}", "email") for n in range(20)]
    spring = campaign(customers, holdout_percent=Decimal("20"), variants=("A", "B"))

    run(spring)

    for row in CampaignRecipient.objects.filter(campaign=spring).select_related("customer"):
        expected = services.assign(
            campaign_id=spring.public_id,
            customer_id=row.customer.public_id,
            arms=[services.Arm("A", 1), services.Arm("B", 1)],
            holdout_percent=Decimal("20"),
        )
        assert (row.variant.code if row.variant else "") == expected


def test_sending_again_queues_nothing_twice():
    customers = [shopper(f"P{n}", "email") for n in range(5)]
    spring = campaign(customers)
    run(spring, batch_size=2)

    # The cursor lost (a restore) and the campaign running again: recipients are skipped,
    # and the outbox's key would refuse a second message anyway.
    Campaign.objects.filter(pk=spring.pk).update(status="running", send_cursor=0)
    again = services.send_campaign(campaign_id=spring.pk, batch_size=2)

    assert again.reached == 0
    assert Notification.objects.count() == 5
    assert CampaignRecipient.objects.filter(campaign=spring).count() == 5
    spring.refresh_from_db()
    assert (spring.status, spring.recipient_count, spring.queued_count) == ("completed", 5, 5)


def test_a_paused_campaign_stops_after_the_batch_and_resumes_where_it_stopped():
    customers = [shopper(f"P{n}", "email") for n in range(5)]
    spring = campaign(customers)
    services.start_campaign(campaign=spring)

    services.send_next_batch(campaign_id=spring.pk, batch_size=2)
    services.pause_campaign(campaign=spring)
    stopped = services.send_campaign(campaign_id=spring.pk, batch_size=2)
    assert (stopped.reached, Notification.objects.count()) == (0, 2)

    services.resume_campaign(campaign=spring)
    services.send_campaign(campaign_id=spring.pk, batch_size=2)

    spring.refresh_from_db()
    assert Notification.objects.count() == 5
    assert (spring.status, spring.recipient_count) == ("completed", 5)


def test_a_cancelled_campaign_sends_no_more():
    customers = [shopper(f"P{n}", "email") for n in range(4)]
    spring = campaign(customers)
    services.start_campaign(campaign=spring)
    services.send_next_batch(campaign_id=spring.pk, batch_size=2)

    services.cancel_campaign(campaign=spring)
    services.send_campaign(campaign_id=spring.pk, batch_size=2)

    assert Notification.objects.count() == 2


def test_cancelling_withdraws_what_is_still_queued_or_waiting_and_keeps_what_was_sent():
    customers = [shopper(f"P{n}", "email") for n in range(4)]
    spring = campaign(customers)
    other = campaign(customers)
    services.start_campaign(campaign=spring)
    services.send_next_batch(campaign_id=spring.pk, batch_size=3)  # still running after
    run(other)
    sent, queued, waiting = Notification.objects.filter(source=f"campaign:{spring.public_id}")
    Notification.objects.filter(pk=sent.pk).update(status=Notification.Status.SENT)
    Notification.objects.filter(pk=waiting.pk).update(
        status=Notification.Status.WAITING,
        suppression_reason=Notification.SuppressionReason.QUIET_HOURS,
        send_after=NOW + timedelta(hours=8),
    )

    services.cancel_campaign(campaign=spring)

    statuses = dict(
        Notification.objects.filter(source=f"campaign:{spring.public_id}").values_list(
            "pk", "status"
        )
    )
    assert statuses == {sent.pk: "sent", queued.pk: "suppressed", waiting.pk: "suppressed"}
    withdrawn = Notification.objects.get(pk=waiting.pk)
    assert (withdrawn.suppression_reason, withdrawn.send_after) == ("withdrawn", None)
    # Another campaign's messages to the same people are not touched.
    assert set(
        Notification.objects.filter(source=f"campaign:{other.public_id}").values_list(
            "status", flat=True
        )
    ) == {"queued"}


def test_each_recipient_gets_their_own_code_of_the_batch_and_keeps_it():
    customers = [shopper(f"P{n}", "email") for n in range(3)]
    codes_offer = offer(name="Spring 15%", trigger="code")
    batch = services.generate_codes(offer=codes_offer, name="spring", quantity=2)
    spring = campaign(customers, code_batch=batch)

    run(spring)

    rows = CampaignRecipient.objects.filter(campaign=spring).order_by("customer_id")
    handed = [row for row in rows if row.coupon_id]
    assert len(handed) == 2
    for row in handed:
        assert row.coupon.customer_id == row.customer_id
        assert row.coupon.code in row.notification.body
    ran_out = [row for row in rows if not row.coupon_id]
    assert [row.reason for row in ran_out] == [CampaignRecipient.Reason.NO_CODE]
    assert Coupon.objects.filter(batch=batch, customer=None).count() == 0


def test_a_shared_coupon_is_everyones_code():
    anna = shopper("Anna", "sms", phone="+33600000001")
    spring = campaign([anna], coupon=coupon("SPRING10"))

    run(spring)

    assert Notification.objects.get(customer=anna).body == "Hi Anna: SPRING10"
    assert receipt(spring, anna).coupon.code == "SPRING10"


def test_personalisation_reads_tier_points_store_offer_and_products(settings):
    settings.CAMPAIGN_RECENT_PURCHASE_DAYS = 30
    paris = LocationFactory(code="PAR-RIV", name="Paris Rivoli")
    anna = shopper("Anna", "email", preferred_store_code=paris.code)
    member(anna, programme(), "Gold", available=800)
    trail, road, jacket = (ProductFactory(name=name) for name in ("Trail", "Road", "Jacket"))
    skus = {p.name: SkuFactory(product=p) for p in (trail, road, jacket)}
    other = shopper("Other")
    order(other, at=NOW - timedelta(days=2), skus=(skus["Trail"], skus["Road"], skus["Jacket"]))
    order(other, at=NOW - timedelta(days=2), skus=(skus["Trail"], skus["Road"]))
    order(other, at=NOW - timedelta(days=2), skus=(skus["Trail"],))
    order(anna, at=NOW - timedelta(days=5), skus=(skus["Trail"],))  # bought recently
    spring = campaign([anna], offer=offer(name="Spring 10%"))
    spring.variants.update(
        email_text="{{ tier }} {{ points }} {{ store }} {{ offer }}: {{ products }}"
    )

    run(spring)

    assert Notification.objects.get(customer=anna).body == (
        "Gold 800 Paris Rivoli Spring 10%: Road, Jacket"
    )


def test_products_are_those_most_bought_with_theirs_then_best_sellers(settings):
    settings.CAMPAIGN_RECENT_PURCHASE_DAYS = 30
    anna = shopper("Anna", "email")
    tent, stove, lamp, mat, socks = (
        ProductFactory(name=name) for name in ("Tent", "Stove", "Lamp", "Mat", "Socks")
    )
    order(anna, at=NOW - timedelta(days=90), skus=(SkuFactory(product=tent),))
    order(anna, at=NOW - timedelta(days=3), skus=(SkuFactory(product=lamp),))
    for related, score in ((stove, 0.5), (lamp, 0.9), (mat, 0.2)):
        ProductAffinity.objects.create(
            product=tent, related=related, together=5, score=score, computed_at=NOW
        )
    other = shopper("Other")
    for _ in range(3):
        order(other, at=NOW - timedelta(days=2), skus=(SkuFactory(product=socks),))
    spring = campaign([anna])
    spring.variants.update(email_text="{{ products }}")

    run(spring)

    # The lamp, most bought with her tent, was bought last week: not suggested again.
    assert Notification.objects.get(customer=anna).body == "Stove, Mat, Socks"


def test_html_is_escaped_in_the_html_body_only():
    anna = shopper("<b>Anna</b>", "email")
    spring = campaign([anna])

    run(spring)

    message = Notification.objects.get(customer=anna)
    assert message.html_body.startswith("<p>Hello &lt;b&gt;Anna&lt;/b&gt;, use </p>")
    assert message.body == "Hello <b>Anna</b>, use "


def test_local_time_holds_each_message_until_the_customers_own_instant(settings):
    settings.TIME_ZONE = "Europe/Paris"
    tokyo = shopper("Kenji", "email", time_zone="Asia/Tokyo")
    LocationFactory(code="NYC-5TH", name="New York", time_zone="America/New_York")
    new_york = shopper("Amy", "email", preferred_store_code="NYC-5TH")
    paris = shopper("Anna", "email")
    # 09:00 in Paris on 20 March = 08:00 UTC.
    spring = campaign(
        [tokyo, new_york, paris],
        kind="scheduled",
        local_time=True,
        send_at=datetime(2026, 3, 20, 8, 0, tzinfo=UTC),
    )

    run(spring)

    def held_until(customer):
        message = Notification.objects.get(customer=customer)
        assert message.status == Notification.Status.WAITING
        return message.send_after

    assert held_until(tokyo) == datetime(2026, 3, 20, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert held_until(new_york) == datetime(2026, 3, 20, 13, 0, tzinfo=UTC)  # EDT since 8 March
    assert held_until(paris) == datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
    assert receipt(spring, tokyo).not_before == datetime(2026, 3, 20, 0, 0, tzinfo=UTC)


def test_the_batch_and_the_single_customer_answers_agree_on_reachability():
    people = [
        shopper("Anna", "push", "email", device="ios-anna"),
        shopper("Ben", "push", "email"),
        shopper("Chloe", "sms", phone="+33600000001"),
        shopper("David", "sms"),
    ]
    channels = ["push", "email", "sms"]

    batch = services.reachable_among(people, channels)

    assert batch == {p.pk: services.reachable_channels(p, channels) for p in people}


def test_members_erased_or_who_left_are_not_sent_to():
    anna, ben = shopper("Anna", "email"), shopper("Ben", "email")
    spring = campaign([anna, ben])
    ben.erased_at = NOW
    ben.save()

    run(spring)

    assert list(CampaignRecipient.objects.values_list("customer", flat=True)) == [anna.pk]


def queries_for_a_batch(django_assert_max_num_queries, size: int, limit: int) -> None:
    customers = [shopper(f"P{n}", "email") for n in range(size)]
    for customer in customers:
        reachable(customer, "push", device=f"device-{customer.pk}")
    spring = campaign(
        customers,
        code_batch=services.generate_codes(offer=offer(trigger="code"), name="b", quantity=size),
    )
    spring.variants.update(email_text="{{ tier }} {{ store }} {{ products }} {{ code }}")
    services.start_campaign(campaign=spring)
    with django_assert_max_num_queries(limit):
        services.send_next_batch(campaign_id=spring.pk, batch_size=size)
    assert Notification.objects.filter(channel="push").count() == size


# Planning costs a fixed number of queries per batch (21 with codes, loyalty, stores and
# products); each recipient then costs what one notify costs: its key, its address and
# consent checks, its insert in a savepoint (6).
PLANNING = 21
PER_MESSAGE = 6


def test_a_batch_of_5_stays_within_its_query_bound(django_assert_max_num_queries):
    queries_for_a_batch(django_assert_max_num_queries, 5, PLANNING + 5 * PER_MESSAGE)


def test_a_batch_of_20_stays_within_its_query_bound(django_assert_max_num_queries):
    queries_for_a_batch(django_assert_max_num_queries, 20, PLANNING + 20 * PER_MESSAGE)
