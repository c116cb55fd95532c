"""A campaign's life: checked whole before it is scheduled or started, moved only along the
allowed transitions, locked once it runs, started by the beat when its time comes."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from campaigns import services
from campaigns.models import Campaign, CampaignVariant
from omni.core.errors import InvalidInput, InvalidTransition
from tests.campaigns.campaign_factories import campaign, shopper

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Starting queues the send after commit; these tests look at the state, not the send."""
    queued = []
    monkeypatch.setattr(services.lifecycle, "_queue_send", queued.append)
    return queued


def scheduled(**fields) -> Campaign:
    fields = {"kind": Campaign.Kind.SCHEDULED, "send_at": NOW + timedelta(hours=2), **fields}
    return campaign([shopper("Anna", "email")], **fields)


def test_a_campaign_without_audience_or_content_cannot_be_started():
    bare = Campaign.objects.create(name="Nothing", channels=[])

    with pytest.raises(InvalidInput) as refused:
        services.start_campaign(campaign=bare)

    assert set(refused.value.details) == {"segment", "channels", "variants"}
    bare.refresh_from_db()
    assert bare.status == Campaign.Status.DRAFT


def test_a_variant_missing_a_channels_content_is_named():
    spring = campaign([shopper("Anna", "email")])
    spring.variants.update(sms_text="")

    with pytest.raises(InvalidInput) as refused:
        services.start_campaign(campaign=spring)

    assert refused.value.details["variants"] == ["Variant A has no sms_text for sms."]


def test_an_unknown_personalisation_field_is_a_validation_error_on_the_field():
    variant = CampaignVariant(campaign=campaign(), code="B", email_subject="Hi {{ email }}")

    with pytest.raises(ValidationError) as refused:
        variant.full_clean()

    assert "email_subject" in refused.value.message_dict
    assert "Unknown variable 'email'" in refused.value.message_dict["email_subject"][0]


def test_a_schedule_in_the_past_is_refused_and_nothing_changes():
    late = scheduled()
    late.send_at = NOW - timedelta(minutes=1)
    late.save()

    with pytest.raises(InvalidInput) as refused:
        services.schedule_campaign(campaign=late)

    assert "send_at" in refused.value.details
    late.refresh_from_db()
    assert late.status == Campaign.Status.DRAFT


def test_a_one_off_cannot_be_scheduled():
    with pytest.raises(InvalidInput):
        services.schedule_campaign(campaign=campaign([shopper("Anna", "email")]))


def test_the_whole_life_of_a_campaign(no_broker):
    spring = scheduled()

    assert services.schedule_campaign(campaign=spring).status == "scheduled"
    assert services.start_campaign(campaign=spring).status == "running"
    assert services.pause_campaign(campaign=spring).status == "paused"
    assert services.resume_campaign(campaign=spring).status == "running"
    assert services.cancel_campaign(campaign=spring).status == "cancelled"
    assert no_broker == [spring.pk, spring.pk]  # start and resume queue the send


@pytest.mark.parametrize(
    ("status", "move"),
    [
        ("draft", services.pause_campaign),
        ("draft", services.resume_campaign),
        ("running", services.unschedule_campaign),
        ("completed", services.resume_campaign),
        ("completed", services.cancel_campaign),
        ("cancelled", services.start_campaign),
    ],
)
def test_moves_outside_the_state_machine_are_refused(status, move):
    spring = campaign([shopper("Anna", "email")])
    Campaign.objects.filter(pk=spring.pk).update(status=status)

    with pytest.raises(InvalidTransition):
        move(campaign=spring)

    spring.refresh_from_db()
    assert spring.status == status


@pytest.mark.parametrize("status", ["running", "paused", "completed"])
def test_a_running_or_finished_campaign_is_locked_in_the_model_and_the_service(status):
    spring = campaign([shopper("Anna", "email")])
    Campaign.objects.filter(pk=spring.pk).update(status=status)
    spring.refresh_from_db()

    spring.name = "Renamed"
    with pytest.raises(ValidationError):
        spring.full_clean()
    with pytest.raises(ValidationError):
        spring.variants.get().full_clean()
    with pytest.raises(InvalidTransition):
        services.edit_campaign(campaign=spring, changes={"name": "Renamed"})

    assert Campaign.objects.get(pk=spring.pk).name == "Spring"


def test_a_draft_is_edited_through_the_service_and_checked():
    spring = campaign([shopper("Anna", "email")])

    services.edit_campaign(campaign=spring, changes={"name": "Spring sale"})
    with pytest.raises(InvalidInput) as refused:
        services.edit_campaign(campaign=spring, changes={"channels": ["fax"]})

    spring.refresh_from_db()
    assert spring.name == "Spring sale"
    assert "channels" in refused.value.details


def test_the_beat_starts_scheduled_campaigns_whose_time_came(no_broker):
    due = scheduled(name="Due")
    later = scheduled(name="Later")
    services.schedule_campaign(campaign=due)
    services.schedule_campaign(campaign=later)
    Campaign.objects.filter(pk=later.pk).update(send_at=NOW + timedelta(hours=5))

    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        started = services.start_due_campaigns()

    assert started == [str(due.public_id)]
    assert Campaign.objects.get(pk=due.pk).status == "running"
    assert Campaign.objects.get(pk=later.pk).status == "scheduled"
    assert no_broker == [due.pk]


def test_a_local_time_campaign_starts_when_its_time_first_comes_anywhere(settings):
    settings.TIME_ZONE = "Europe/Paris"
    # 09:00 in Paris on 20 March (UTC+1) is 08:00 UTC; 09:00 first comes at UTC+14, i.e.
    # at 19:00 UTC the day before.
    local = scheduled(send_at=datetime(2026, 3, 20, 8, 0, tzinfo=UTC), local_time=True)
    services.schedule_campaign(campaign=local)

    with time_machine.travel(datetime(2026, 3, 19, 18, 59, tzinfo=UTC), tick=False):
        assert services.start_due_campaigns() == []
    with time_machine.travel(datetime(2026, 3, 19, 19, 0, tzinfo=UTC), tick=False):
        assert services.start_due_campaigns() == [str(local.public_id)]


def test_the_beat_queues_again_a_running_send_that_stalled(no_broker):
    spring = campaign([shopper("Anna", "email")])
    services.start_campaign(campaign=spring)
    no_broker.clear()

    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert services.start_due_campaigns() == []
    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        assert services.start_due_campaigns() == [str(spring.public_id)]
    assert no_broker == [spring.pk]
