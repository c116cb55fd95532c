"""A campaign's cost, for the ROI report: entered in the admin, still editable once the
campaign ran (costs are often known only afterwards), never negative."""

from decimal import Decimal

import pytest

from campaigns.models import Campaign
from tests.campaigns.campaign_factories import campaign
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/admin/campaigns/campaign/"


@pytest.fixture
def marketer(client):
    client.force_login(
        UserFactory(
            is_staff=True,
            permissions=[
                "campaigns.view_campaign",
                "campaigns.change_campaign",
                "campaigns.view_campaignvariant",
                "campaigns.change_campaignvariant",
            ],
        )
    )
    return client


def completed() -> Campaign:
    made = campaign()
    Campaign.objects.filter(pk=made.pk).update(status=Campaign.Status.COMPLETED)
    made.refresh_from_db()
    return made


def change(client, made: Campaign, cost: str):
    return client.post(
        f"{CAMPAIGNS}{made.pk}/change/",
        {
            "cost": cost,
            "variants-TOTAL_FORMS": "1",
            "variants-INITIAL_FORMS": "1",
            "variants-MIN_NUM_FORMS": "1",
            "variants-MAX_NUM_FORMS": "1000",
            "variants-0-id": made.variants.get().pk,
            "variants-0-campaign": made.pk,
        },
    )


def test_a_completed_campaign_s_cost_can_still_be_entered(marketer):
    spring = completed()

    page = marketer.get(f"{CAMPAIGNS}{spring.pk}/change/")
    answer = change(marketer, spring, "1250.50")

    assert 'name="cost"' in page.content.decode()
    assert 'name="name"' not in page.content.decode()  # the rest stays locked
    assert answer.status_code == 302
    spring.refresh_from_db()
    assert spring.cost == Decimal("1250.50")


def test_a_negative_cost_is_refused_on_the_field(marketer):
    spring = completed()

    answer = change(marketer, spring, "-5")

    assert answer.status_code == 200
    assert "greater than or equal to 0" in answer.content.decode()
    spring.refresh_from_db()
    assert spring.cost is None
