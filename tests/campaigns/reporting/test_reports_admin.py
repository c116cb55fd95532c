"""The admin's Reports: one list of every report, and the cohorts, conversion and campaign ROI
pages — filters, a server-drawn SVG chart, the table, a CSV download, bad input as a message on
the page, a bounded number of queries, and "Can view report" to read them. The histories are
the hand-made ones of each report's own tests."""

import csv
import io

import pytest
import time_machine

from tests.campaigns.reporting import test_campaign_roi as roi_histories
from tests.campaigns.reporting import test_conversion_report as conversion_histories
from tests.campaigns.reporting import test_retention_cohorts as cohort_histories
from tests.inventory.factories import UserFactory

# The hand-made histories of each report's own tests, as fixtures here too.
history, COHORTS_NOW = cohort_histories.history, cohort_histories.NOW
looks, CONVERSION_NOW = conversion_histories.looks, conversion_histories.NOW
campaigns, ROI_NOW = roi_histories.campaigns, roi_histories.NOW

REPORTS = "/admin/campaigns/report/"
COHORTS = f"{REPORTS}cohorts/"
CONVERSION = f"{REPORTS}conversion/"
ROI = f"{REPORTS}roi/"


def rows_of(answer) -> list[dict[str, str]]:
    assert answer["Content-Type"] == "text/csv"
    return list(csv.DictReader(io.StringIO(answer.content.decode())))


@pytest.fixture
def reader(client, db):
    client.force_login(UserFactory(is_staff=True, permissions=["campaigns.view_report"]))
    return client


# --- The list of reports ----------------------------------------------------------------------


def test_the_reports_list_every_report_for_a_superuser(admin_client):
    page = admin_client.get(REPORTS)

    html = page.content.decode()
    assert page.status_code == 200
    for url in (
        "/admin/campaigns/attributioncredit/report/",
        "/admin/campaigns/customervalue/",
        "/admin/campaigns/clvfit/",
        COHORTS,
        CONVERSION,
        ROI,
        "/admin/campaigns/surveyanswer/report/",
    ):
        assert f'href="{url}"' in html


def test_the_reports_list_only_what_the_user_may_read(reader):
    html = reader.get(REPORTS).content.decode()

    assert f'href="{COHORTS}"' in html
    assert "/admin/campaigns/attributioncredit/report/" not in html


def test_the_campaigns_app_links_to_the_reports(admin_client):
    assert f'href="{REPORTS}"' in admin_client.get("/admin/campaigns/").content.decode()


@pytest.mark.parametrize("url", [REPORTS, COHORTS, CONVERSION, ROI])
def test_staff_without_the_permission_are_refused(client, db, url):
    client.force_login(UserFactory(is_staff=True, permissions=["campaigns.view_campaign"]))

    assert client.get(url).status_code == 403


def test_the_reports_have_no_add_change_or_delete(admin_client):
    assert admin_client.get(f"{REPORTS}add/").status_code in (403, 404)


# --- Cohorts -----------------------------------------------------------------------------------

COHORT_RANGE = {"start": "2025-11-01", "end": "2025-12-31"}


def test_the_cohorts_page_draws_the_curves_and_the_table(reader, history):
    with time_machine.travel(COHORTS_NOW, tick=False):
        page = reader.get(COHORTS, COHORT_RANGE)

    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "<polyline" in html
    assert 'src="http' not in html
    assert html.count("<polyline") == 4  # one curve per cohort
    assert "Nov 2025" in html
    assert "Dec 2025" in html
    assert "All cohorts" in html
    assert "format=csv" in html


def test_the_cohorts_download_as_csv(reader, history):
    with time_machine.travel(COHORTS_NOW, tick=False):
        answer = reader.get(COHORTS, {**COHORT_RANGE, "format": "csv"})

    assert "cohorts-2025-11-01-2025-12-31.csv" in answer["Content-Disposition"]
    web = next(r for r in rows_of(answer) if r["first_channel"] == "web")
    assert web["cohort_month"] == "2025-11"
    assert web["customers"] == "3"
    assert [web[f"month_{k}"] for k in (1, 2, 3, 4, 5)] == [
        "0.3333",
        "0.0000",
        "0.3333",
        "0.3333",
        "",
    ]
    assert (web["repeat_customers"], web["repeat_rate"]) == ("2", "0.6667")
    assert web["repeat_within_90_days"] == "1"
    assert web["omnichannel"] == "1"


def test_the_cohorts_filter_by_channel_and_store(reader, history):
    with time_machine.travel(COHORTS_NOW, tick=False):
        found = reader.get(COHORTS, {**COHORT_RANGE, "store": "PAR-RIV"}).context["report"]

    assert [(c.channel, c.customers) for c in found.cohorts] == [("store", 1)]


def test_a_reversed_range_is_a_message_not_a_report(reader, history):
    page = reader.get(COHORTS, {"start": "2025-12-31", "end": "2025-11-01"})

    assert page.status_code == 200
    assert "The date range is empty" in page.content.decode()
    assert page.context["report"] is None
    refused = reader.get(COHORTS, {"start": "2025-12-31", "end": "2025-11-01", "format": "csv"})
    assert refused.get("Content-Type") != "text/csv"


def test_a_missing_date_is_a_message(reader, history):
    page = reader.get(COHORTS, {"start": "", "end": "2025-11-01"})

    assert "This field is required" in page.content.decode()
    assert page.context["report"] is None


def test_the_cohorts_page_reads_a_bounded_number_of_queries(
    reader, history, django_assert_max_num_queries
):
    with time_machine.travel(COHORTS_NOW, tick=False), django_assert_max_num_queries(6):
        reader.get(COHORTS, COHORT_RANGE)


def test_the_pages_default_to_a_recent_range(reader, history):
    with time_machine.travel(COHORTS_NOW, tick=False):
        cohorts = reader.get(COHORTS).context["report"]
        conversion = reader.get(CONVERSION).context["report"]
        roi = reader.get(ROI).context["report"]

    assert (str(cohorts.start), str(cohorts.end)) == ("2025-04-01", "2026-03-15")
    assert (str(conversion.start), str(conversion.end)) == ("2026-02-13", "2026-03-14")
    assert conversion.window_days == 7
    assert (str(roi.start), str(roi.end)) == ("2025-12-16", "2026-03-15")


# --- Conversion --------------------------------------------------------------------------------

LOOK_RANGE = {"start": "2026-03-01", "end": "2026-03-10", "window_days": "7"}


def test_the_conversion_page_shows_the_matrix_as_a_heat_table(reader, looks):
    with time_machine.travel(CONVERSION_NOW, tick=False):
        page = reader.get(CONVERSION, LOOK_RANGE)

    html = page.content.decode()
    assert page.status_code == 200
    assert "conversion-matrix" in html
    assert "background: #" in html
    assert "33 % (2)" in html  # web visitors who bought on the web: 2 of 6
    assert "17 % (1)" in html  # viewed online, bought in store: 1 of 6


def test_the_conversion_downloads_as_csv(reader, looks):
    with time_machine.travel(CONVERSION_NOW, tick=False):
        answer = reader.get(CONVERSION, {**LOOK_RANGE, "format": "csv"})

    web = next(r for r in rows_of(answer) if r["browsed_on"] == "web")
    assert (web["visitors"], web["known_visitors"]) == ("6", "5")
    assert (web["bought_on_web"], web["bought_on_app"], web["bought_on_store"]) == ("2", "0", "1")
    assert web["bought_anywhere"] == "3"
    assert (web["rate_web"], web["rate_store"], web["rate_anywhere"]) == (
        "0.3333",
        "0.1667",
        "0.5000",
    )


def test_a_window_of_zero_days_is_a_message(reader, looks):
    page = reader.get(CONVERSION, {**LOOK_RANGE, "window_days": "0"})

    assert "greater than or equal to 1" in page.content.decode()
    assert page.context["report"] is None


def test_the_conversion_page_reads_a_bounded_number_of_queries(
    reader, looks, django_assert_max_num_queries
):
    with time_machine.travel(CONVERSION_NOW, tick=False), django_assert_max_num_queries(6):
        reader.get(CONVERSION, LOOK_RANGE)


# --- Campaign ROI ------------------------------------------------------------------------------

ROI_RANGE = {"start": "2026-03-01", "end": "2026-03-31"}


def test_the_roi_page_shows_bars_and_says_what_is_missing(reader, campaigns):
    with time_machine.travel(ROI_NOW, tick=False):
        page = reader.get(ROI, ROI_RANGE)

    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "<rect" in html
    assert "-20 %" in html  # Spring's ROI
    assert "no holdout" in html  # Solo
    assert "no cost" in html  # Free and Gift
    assert "80.00" in html


def test_the_roi_downloads_as_csv(reader, campaigns):
    with time_machine.travel(ROI_NOW, tick=False):
        answer = reader.get(ROI, {**ROI_RANGE, "format": "csv"})

    rows = {r["campaign"]: r for r in rows_of(answer)}
    assert set(rows) == {"Spring", "Solo", "Free", "Gift"}
    spring = rows["Spring"]
    assert (spring["messages_sent"], spring["cost"], spring["conversions"]) == ("3", "100.00", "2")
    assert (spring["attributed_revenue"], spring["incremental_revenue"]) == ("160.00", "80.00")
    assert (spring["roi"], spring["roas"], spring["cost_per_conversion"]) == (
        "-0.2000",
        "1.6000",
        "50.00",
    )
    assert (rows["Solo"]["incremental_revenue"], rows["Solo"]["roi"]) == ("", "")
    assert (rows["Free"]["cost"], rows["Free"]["roas"]) == ("", "")


def test_the_roi_page_reads_a_bounded_number_of_queries(
    reader, campaigns, django_assert_max_num_queries
):
    with time_machine.travel(ROI_NOW, tick=False), django_assert_max_num_queries(6):
        reader.get(ROI, ROI_RANGE)
