"""The admin's attribution report: the models side by side per channel for a date range,
filtered by channel and store, a server-drawn SVG chart, a CSV download; read-only rows."""

import csv
import io
from decimal import Decimal

import pytest

from campaigns.models import AttributionCredit
from campaigns.reporting import attribution
from tests.campaigns.reporting.conftest import DAY
from tests.inventory.factories import UserFactory

REPORT = "/admin/campaigns/attributioncredit/report/"
ROWS = "/admin/campaigns/attributioncredit/"
RANGE = {"start": "2026-03-14", "end": "2026-03-14"}


@pytest.fixture
def computed(journeys):
    attribution.compute_attribution(start=DAY, end=DAY)
    return journeys


def test_the_report_sets_the_models_side_by_side_with_a_chart(admin_client, computed):
    page = admin_client.get(REPORT, RANGE)

    html = page.content.decode()
    assert page.status_code == 200
    for label in ("First touch", "Last non-direct", "Time decay", "Position-based", "Markov"):
        assert label in html
    for channel in ("E-mail", "Paid (ads)", "Store visit", "Direct"):
        assert channel in html
    assert "<svg" in html
    assert 'src="http' not in html  # nothing fetched from elsewhere
    assert "All channels" in html
    assert "format=csv" in html
    comparison = page.context["comparison"]
    # Each model credits the 4 orders (to the roll-up's 6 decimal places).
    for model in AttributionCredit.Model.values:
        assert comparison.orders[model] == pytest.approx(Decimal(4), abs=Decimal("1e-5"))


def test_the_report_defaults_to_the_last_30_days(admin_client, computed):
    page = admin_client.get(REPORT)

    assert page.status_code == 200
    assert page.context["comparison"].start.isoformat() == "2026-02-13"
    assert page.context["comparison"].end == DAY
    assert "Direct" in page.content.decode()


def test_the_report_filters_by_store_and_channel(admin_client, computed):
    by_store = admin_client.get(REPORT, {**RANGE, "store": "PAR-RIV"}).context["comparison"]
    assert [c.channel for c in by_store.channels] == ["store_visit", "store"]
    assert by_store.orders["first_touch"] == Decimal("1")

    by_channel = admin_client.get(REPORT, {**RANGE, "channel": "paid"}).context["comparison"]
    assert [c.channel for c in by_channel.channels] == ["paid"]
    assert by_channel.orders["last_non_direct"] == Decimal("1")
    assert by_channel.orders["first_touch"] == Decimal("0")


def test_the_report_downloads_as_csv(admin_client, computed):
    answer = admin_client.get(REPORT, {**RANGE, "format": "csv"})

    assert answer["Content-Type"] == "text/csv"
    assert "attribution-2026-03-14-2026-03-14.csv" in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    paid = next(r for r in rows if r["channel"] == "paid")
    assert Decimal(paid["last_non_direct_orders"]) == 1
    assert Decimal(paid["last_non_direct_revenue"]) == 100
    assert Decimal(paid["first_touch_orders"]) == 0


def test_an_empty_range_is_refused_on_the_page(admin_client, computed):
    page = admin_client.get(REPORT, {"start": "2026-03-14", "end": "2026-03-01"})

    assert page.status_code == 200
    assert "The date range is empty" in page.content.decode()
    assert page.context["comparison"] is None
    csv_refused = admin_client.get(
        REPORT, {"start": "2026-03-14", "end": "2026-03-01", "format": "csv"}
    )
    assert csv_refused.get("Content-Type") != "text/csv"


def test_the_report_reads_a_bounded_number_of_queries(
    admin_client, computed, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        admin_client.get(REPORT, {"start": "2026-01-01", "end": "2026-03-14"})


def test_staff_without_the_view_permission_cannot_see_the_report(client, computed):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(REPORT, RANGE).status_code == 403


def test_staff_with_the_view_permission_see_it(client, computed):
    client.force_login(UserFactory(is_staff=True, permissions=["campaigns.view_attributioncredit"]))

    assert client.get(REPORT, RANGE).status_code == 200


def test_the_rows_are_read_only_and_link_to_the_report(admin_client, computed):
    page = admin_client.get(ROWS)

    assert page.status_code == 200
    assert REPORT in page.content.decode()
    assert admin_client.get(f"{ROWS}add/").status_code == 403
    row = AttributionCredit.objects.first()
    assert admin_client.post(f"{ROWS}{row.pk}/delete/", {"post": "yes"}).status_code == 403
