"""The migration that grew campaigns keeps what existing databases hold: each campaign gets a
public id, its one channel as its channel list, its start as its send time, and a variant A."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("campaigns", "0003_segment_rules_membership_rfm_audiences")]
AFTER = [("campaigns", "0004_campaign_content_variants_recipients")]
SPRING = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_campaigns_are_carried_over():
    old = migrate(BEFORE)
    Campaign = old.get_model("campaigns", "Campaign")
    segment = old.get_model("campaigns", "Segment").objects.create(name="Everyone")
    spring = Campaign.objects.create(
        name="Spring", channel="email", status="scheduled", segment=segment, starts_at=SPRING
    )
    done = Campaign.objects.create(name="Winter", channel="sms", status="finished")
    lost = Campaign.objects.create(name="No date", channel="push", status="scheduled")

    new = migrate(AFTER)

    Campaign = new.get_model("campaigns", "Campaign")
    rows = {c.pk: c for c in Campaign.objects.all()}
    assert (rows[spring.pk].channels, rows[spring.pk].status, rows[spring.pk].kind) == (
        ["email"],
        "scheduled",
        "scheduled",
    )
    assert rows[spring.pk].send_at == SPRING
    assert rows[spring.pk].segment_id == segment.pk
    assert (rows[done.pk].channels, rows[done.pk].status) == (["sms"], "completed")
    assert (rows[lost.pk].status, rows[lost.pk].kind) == ("draft", "one_off")
    assert len({c.public_id for c in rows.values()} - {None}) == 3
    Variant = new.get_model("campaigns", "CampaignVariant")
    assert sorted(Variant.objects.values_list("campaign_id", "code")) == sorted(
        (pk, "A") for pk in rows
    )


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """The tests after this one need every migration applied again (later ones than AFTER
    too)."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
