"""A survey answer is the customer's opinion of an earlier order, not something that brought
them back: it is no step of a later order's journey in any attribution model."""

from campaigns.models import AttributionCredit
from campaigns.reporting import attribution
from customers.models import Customer, Touchpoint
from tests.campaigns.factories import order, touch
from tests.campaigns.reporting.conftest import DAY, at


def test_a_survey_answer_before_an_order_is_no_step_of_its_journey(frozen, db):
    emma = Customer.objects.create(first_name="Emma")
    touch(
        emma,
        Touchpoint.Kind.SURVEY_ANSWER,
        at=at(9, days=2),
        channel="store",
        store_code="PAR-RIV",
        campaign_code="after-sale-journey",
        properties={"scale": "nps", "score": 10},
    )
    bought = order(emma, at=at(12))

    for model in AttributionCredit.Model.values:
        steps = [
            (s.channel, s.campaign, s.store)
            for s in attribution.journey_credits(start=DAY, end=DAY, model=model)
            if s.order_id == bought.pk
        ]
        assert steps == [("direct", "", "")], model
