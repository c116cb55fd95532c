"""Customer satisfaction from the surveys: NPS and CSAT per order channel, store and campaign,
checked exactly on hand-made answers; and the admin's report (chart, filters, CSV, messages).

The answers of ``DAY`` (every score on its own order):

    NPS   web,   no store, campaign Spring:  10, 9, 7, 3 (first 1, corrected to 3)
          store, PAR-RIV,  campaign Spring:  10, 6, 0 (the 0 by a customer erased since)
          ios,   LYON-1,   no campaign:       8
    CSAT  web,   no store, campaign Spring:  5, 4
          store, PAR-RIV,  "autumn-journey":  3, 1, 4

and, out of the range, an NPS 0 the day before and a CSAT 1 the day after.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from campaigns.reporting.satisfaction import satisfaction_report
from customers.services import Survey, answer_survey, erase_customer
from omni.core.errors import InvalidInput
from tests.campaigns.campaign_factories import campaign
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 14)
REPORT = "/admin/campaigns/surveyanswer/report/"
ROWS = "/admin/campaigns/surveyanswer/"
RANGE = {"start": "2026-03-14", "end": "2026-03-14"}
_orders = count(1)


def answer(scale, score, *, channel, store="", campaign_code="", day=DAY, customer=None):
    survey = Survey(
        customer=customer or CustomerFactory(),
        scale=scale,
        order_number=f"N{next(_orders):06d}",
        order_channel=channel,
        store_code=store,
        campaign_code=campaign_code,
    )
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return answer_survey(survey=survey, score=score, answered_via="test", now=at), survey


@pytest.fixture
def answers(db):
    LocationFactory(code="PAR-RIV", name="Paris Rivoli")
    LocationFactory(code="LYON-1", name="Lyon Part-Dieu")
    spring = str(campaign(name="Spring").public_id)
    for score in (10, 9, 7):
        answer("nps", score, channel="web", campaign_code=spring)
    _, corrected = answer("nps", 1, channel="web", campaign_code=spring)
    answer_survey(survey=corrected, score=3, answered_via="test")
    for score in (10, 6):
        answer("nps", score, channel="store", store="PAR-RIV", campaign_code=spring)
    erased = CustomerFactory()
    answer("nps", 0, channel="store", store="PAR-RIV", campaign_code=spring, customer=erased)
    erase_customer(customer=erased, requested_via="test")
    answer("nps", 8, channel="ios", store="LYON-1")
    for score in (5, 4):
        answer("csat", score, channel="web", campaign_code=spring)
    for score in (3, 1, 4):
        answer("csat", score, channel="store", store="PAR-RIV", campaign_code="autumn-journey")
    answer("nps", 0, channel="web", day=DAY - timedelta(days=1))
    answer("csat", 1, channel="web", day=DAY + timedelta(days=1))
    return spring


def figures(group):
    return (
        group.nps,
        group.nps_answers,
        group.promoters,
        group.passives,
        group.detractors,
        group.csat,
        group.csat_mean,
        group.csat_answers,
    )


def groups(report, dimension):
    [breakdown] = [b for b in report.breakdowns if b.dimension == dimension]
    return {group.key: group for group in breakdown.groups}


def test_the_totals_count_every_answer_of_the_range_once(answers):
    report = satisfaction_report(start=DAY, end=DAY)

    # NPS: 3 promoters (10, 9, 10), 2 passives (7, 8), 3 detractors (3, 6, 0) of 8: 0.
    # CSAT: 3 of 5 at 4 or 5; mean (5 + 4 + 3 + 1 + 4) / 5.
    assert figures(report.total) == (
        Decimal("0.0"),
        8,
        3,
        2,
        3,
        Decimal("60.0"),
        Decimal("3.40"),
        5,
    )


def test_nps_and_csat_per_order_channel(answers):
    by_channel = groups(satisfaction_report(start=DAY, end=DAY), "channel")

    assert figures(by_channel["web"]) == (
        Decimal("25.0"),  # (2 - 1) / 4
        4,
        2,
        1,
        1,
        Decimal("100.0"),
        Decimal("4.50"),
        2,
    )
    assert figures(by_channel["store"]) == (
        Decimal("-33.3"),  # (1 - 2) / 3
        3,
        1,
        0,
        2,
        Decimal("33.3"),  # 1 of 3
        Decimal("2.67"),  # 8 / 3
        3,
    )
    assert figures(by_channel["ios"]) == (Decimal("0.0"), 1, 0, 1, 0, None, None, 0)
    assert by_channel["web"].label == "Website"


def test_nps_and_csat_per_store_with_their_names(answers):
    by_store = groups(satisfaction_report(start=DAY, end=DAY), "store_code")

    assert set(by_store) == {"", "PAR-RIV", "LYON-1"}
    assert by_store["PAR-RIV"].label == "Paris Rivoli (PAR-RIV)"
    assert by_store[""].label == "No store (deliveries)"
    paris = by_store["PAR-RIV"]
    assert (paris.nps, paris.csat) == (Decimal("-33.3"), Decimal("33.3"))
    assert (by_store[""].nps, by_store[""].csat) == (Decimal("25.0"), Decimal("100.0"))
    assert (by_store["LYON-1"].nps, by_store["LYON-1"].csat) == (Decimal("0.0"), None)


def test_nps_and_csat_per_campaign(answers):
    by_campaign = groups(satisfaction_report(start=DAY, end=DAY), "campaign_code")

    spring = by_campaign[answers]
    assert spring.label == "Spring"
    # NPS 10, 9, 7, 3, 10, 6, 0: 3 promoters, 1 passive, 3 detractors of 7.
    assert figures(spring) == (
        Decimal("0.0"),
        7,
        3,
        1,
        3,
        Decimal("100.0"),
        Decimal("4.50"),
        2,
    )
    autumn = by_campaign["autumn-journey"]
    assert autumn.label == "autumn-journey"  # no campaign has this id: shown as it is
    assert figures(autumn) == (None, 0, 0, 0, 0, Decimal("33.3"), Decimal("2.67"), 3)
    assert by_campaign[""].label == "No campaign (asked in the app)"


def test_the_filters_narrow_the_answers(answers):
    at_paris = satisfaction_report(start=DAY, end=DAY, store_code="PAR-RIV")
    on_web = satisfaction_report(start=DAY, end=DAY, channel="web")
    two_days = satisfaction_report(start=DAY - timedelta(days=1), end=DAY)

    assert (at_paris.total.nps_answers, at_paris.total.csat_answers) == (3, 3)
    assert (on_web.total.nps_answers, on_web.total.csat_answers) == (4, 2)
    assert two_days.total.nps_answers == 9
    assert two_days.total.detractors == 4


def test_the_report_takes_a_bounded_number_of_queries(answers, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        satisfaction_report(start=DAY, end=DAY)


def test_no_answers_is_an_empty_report_not_zeros(db):
    report = satisfaction_report(start=DAY, end=DAY)

    assert report.empty
    assert (report.total.nps, report.total.csat, report.total.csat_mean) == (None, None, None)


@pytest.mark.parametrize(
    ("filters", "field"),
    [({"start": DAY, "end": DAY - timedelta(days=1)}, "end"), ({"channel": "fax"}, "channel")],
)
def test_an_empty_range_or_unknown_channel_is_refused(db, filters, field):
    with pytest.raises(InvalidInput) as refused:
        satisfaction_report(**{"start": DAY, "end": DAY, **filters})

    assert field in refused.value.details


# --- The admin ------------------------------------------------------------------------------


def test_the_report_page_shows_each_breakdown_with_a_chart(admin_client, answers):
    page = admin_client.get(REPORT, RANGE)

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<svg class="satisfaction-chart"') == 3
    assert 'src="http' not in html  # nothing fetched from elsewhere
    for text in ("By order channel", "By store", "By campaign", "Paris Rivoli", "Spring"):
        assert text in html
    assert "-33.3" in html
    assert "format=csv" in html


def test_the_report_page_filters_by_channel_and_store(admin_client, answers):
    report = admin_client.get(REPORT, {**RANGE, "store": "PAR-RIV", "channel": "store"}).context[
        "report"
    ]

    assert (report.total.nps_answers, report.total.csat_answers) == (3, 3)


def test_the_report_downloads_as_csv(admin_client, answers):
    response = admin_client.get(REPORT, {**RANGE, "format": "csv"})

    assert response["Content-Type"] == "text/csv"
    assert "satisfaction-2026-03-14-2026-03-14.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    total = rows[0]
    assert (total["breakdown"], total["nps"], total["csat_percent"]) == ("all", "0.0", "60.0")
    store = next(r for r in rows if r["breakdown"] == "channel" and r["key"] == "store")
    assert (store["nps"], store["detractors"], store["csat_mean"]) == ("-33.3", "2", "2.67")
    ios = next(r for r in rows if r["key"] == "ios")
    assert (ios["nps"], ios["csat_percent"], ios["csat_mean"]) == ("0.0", "", "")
    assert {r["breakdown"] for r in rows} == {"all", "channel", "store_code", "campaign_code"}


def test_a_range_without_answers_says_so(admin_client, answers):
    page = admin_client.get(REPORT, {"start": "2026-01-01", "end": "2026-01-31"})

    assert page.status_code == 200
    assert "No survey was answered from 2026-01-01 to 2026-01-31" in page.content.decode()
    assert 'satisfaction-chart"' not in page.content.decode()


def test_an_empty_range_is_refused_on_the_page(admin_client, answers):
    page = admin_client.get(REPORT, {"start": "2026-03-14", "end": "2026-03-01"})

    assert page.status_code == 200
    assert "The date range is empty" in page.content.decode()
    assert page.context["report"] is None


def test_the_answers_list_is_read_only_and_shows_only_survey_answers(admin_client, answers):
    page = admin_client.get(ROWS)

    assert page.status_code == 200
    assert page.context["cl"].result_count == 15
    assert "Satisfaction report" in page.content.decode()
    assert admin_client.get(f"{ROWS}add/").status_code == 403


def test_staff_without_the_view_right_cannot_read_the_report(client, answers):
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)

    assert client.get(REPORT, RANGE).status_code == 403
