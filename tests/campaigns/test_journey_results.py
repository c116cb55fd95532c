"""What a journey earned, per variant and against its holdout: each enrollment counts once,
from its first message step (held out: the step where it would have had it), converted when
its customer ordered within the conversion window after it — as the one-off results count."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from campaigns import selectors, services
from campaigns.models import JourneyMessage
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.factories import order
from tests.campaigns.journey_factories import MESSAGE, journey

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def test_a_journeys_results_count_each_enrollment_once_against_its_holdout(
    time_machine, admin_client, django_assert_max_num_queries
):
    time_machine.move_to(NOW, tick=False)
    welcome = journey("welcome", MESSAGE, MESSAGE, holdout_percent=Decimal("50"))
    people = [shopper(f"P{n}", "email") for n in range(20)]
    services.run_journeys()
    first = {m.enrollment.customer_id: m for m in JourneyMessage.objects.filter(step=0)}
    assert len(first) == 20
    treated = [c for c in people if first[c.pk].variant_id is not None]
    held = [c for c in people if first[c.pk].variant_id is None]
    assert treated
    assert held
    # Two treated customers buy within the week (one twice), one held-out customer buys, and
    # one treated customer buys after the window.
    order(treated[0], at=NOW + timedelta(days=1), total="30.00")
    order(treated[0], at=NOW + timedelta(days=2), total="20.00")
    order(treated[1], at=NOW + timedelta(hours=3), total="40.00")
    order(held[0], at=NOW + timedelta(days=3), total="25.00")
    if len(treated) > 2:
        order(treated[2], at=NOW + timedelta(days=8), total="99.00")

    with django_assert_max_num_queries(1):
        results = selectors.journey_results(welcome)

    a, holdout = results
    assert (holdout.label, holdout.recipients, holdout.conversions) == ("holdout", len(held), 1)
    assert (a.label, a.recipients, a.conversions, a.revenue) == (
        "A",
        len(treated),
        2,
        Decimal("90.00"),
    )
    assert a.uplift is not None
    assert a.uplift.absolute == pytest.approx(2 / len(treated) - 1 / len(held))
    page = admin_client.get(f"/admin/campaigns/campaign/{welcome.pk}/change/").content.decode()
    assert f"<td>A</td><td>{len(treated)}</td><td>2</td>" in page
