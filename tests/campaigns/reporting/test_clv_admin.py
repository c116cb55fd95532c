"""Marketers read the CLV in the admin: the latest fit with its parameters, values by channel
mix and calibration report (also as CSV), the customer values filtered and sorted by
predicted CLV; nothing there can be edited; a run on demand, refusals shown as messages."""

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from campaigns.models import ClvFit, CustomerValue
from campaigns.reporting import clv
from tests.campaigns.conftest import NOW
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db

VALUES = "/admin/campaigns/customervalue/"
FITS = "/admin/campaigns/clvfit/"


@pytest.fixture
def fitted(base, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50
    return clv.compute_customer_values(now=NOW, holdout_days=90)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_fit_page_shows_parameters_channel_mix_and_calibration(admin_client, fitted):
    page = admin_client.get(reverse("admin:campaigns_clvfit_change", args=[fitted.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert f"alpha = {fitted.bgnbd['alpha']:.4g}" in html
    assert f"gamma = {fitted.gamma_gamma['gamma']:.4g}" in html
    assert "Omnichannel" in html
    assert "<th>repeat_purchases</th>" in html
    assert f"<td>{fitted.calibration[0]['predicted']}</td>" in html
    assert reverse("admin:campaigns_clvfit_calibration_csv", args=[fitted.pk]) in html
    assert 'name="_save"' not in html  # read-only


def test_the_calibration_report_downloads_as_csv(admin_client, fitted):
    answer = admin_client.get(reverse("admin:campaigns_clvfit_calibration_csv", args=[fitted.pk]))

    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in answer["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == ["repeat_purchases", "customers", "actual", "predicted"]
    assert [row[0] for row in rows[1:]] == [r["repeat_purchases"] for r in fitted.calibration]
    assert rows[-1][0] == "total"


def test_the_csv_needs_the_right_to_view_fits(client, fitted):
    client.force_login(UserFactory(is_staff=True))

    answer = client.get(reverse("admin:campaigns_clvfit_calibration_csv", args=[fitted.pk]))

    assert answer.status_code == 403


def test_customer_values_are_listed_by_predicted_clv_and_filtered(
    admin_client, fitted, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        listing = admin_client.get(VALUES)
    gone = admin_client.get(VALUES, {"p_alive": "gone", "channel_mix": "omnichannel"})
    once = admin_client.get(VALUES, {"bought": "once"})

    shown = list(listing.context["cl"].result_list)
    assert [v.predicted_clv for v in shown] == sorted(
        (v.predicted_clv for v in shown), reverse=True
    )
    assert shown[0].predicted_clv == max(
        CustomerValue.objects.values_list("predicted_clv", flat=True)
    )
    expected_gone = CustomerValue.objects.filter(p_alive__lt=0.3, channel_mix="omnichannel")
    assert gone.context["cl"].queryset.count() == expected_gone.count()
    assert {v.repeat_purchases for v in once.context["cl"].queryset} == {0}


def test_nothing_can_be_added_changed_or_deleted(admin_client, fitted):
    value = CustomerValue.objects.first()

    assert admin_client.get(f"{VALUES}add/").status_code == 403
    assert admin_client.get(f"{FITS}add/").status_code == 403
    assert admin_client.post(f"{FITS}{fitted.pk}/delete/", {"post": "yes"}).status_code == 403
    page = admin_client.get(reverse("admin:campaigns_customervalue_change", args=[value.pk]))
    assert 'name="_save"' not in page.content.decode()


def test_a_run_on_demand_refused_for_too_little_history_says_why(admin_client, db):
    page = admin_client.post(reverse("admin:campaigns_clvfit_recompute"), follow=True)

    assert any("Too little history" in message for message in said(page))
    assert not ClvFit.objects.exists()
    assert admin_client.get(reverse("admin:campaigns_clvfit_recompute")).status_code == 403


def test_a_run_on_demand_writes_the_values(admin_client, base, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50

    page = admin_client.post(reverse("admin:campaigns_clvfit_recompute"), follow=True)

    assert "Customer values computed for 400 buyers." in said(page)
    assert CustomerValue.objects.count() == 400
