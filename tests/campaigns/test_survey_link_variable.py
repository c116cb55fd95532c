"""``{{ survey_link }}`` in a campaign message: the signed link to the survey about the order a
recipient's context names (a journey after a pick-up, a delivery or a till sale), empty in a
message about no order; the admin preview shows a working sample that records nothing."""

from urllib.parse import urlsplit

import pytest

from campaigns import selectors, services
from campaigns.services.templating import check, render
from customers.models import Touchpoint
from customers.services import read_survey_token
from tests.campaigns.campaign_factories import campaign, shopper

pytestmark = pytest.mark.django_db

CONTEXT = {
    "order_number": "P000042",
    "order_channel": "ios",
    "store_code": "PAR-RIV",
    "campaign_code": "0b7c1d1e-0000-4000-8000-000000000001",
}


def token_of(url: str) -> str:
    return urlsplit(url).path.split("/")[2]


def test_survey_link_is_a_variable_marketers_may_use():
    assert check("Tell us: {{ survey_link }}") == {"survey_link"}
    assert "survey_link" in services.VARIABLES


def test_the_link_is_built_from_the_recipients_order_context(settings):
    settings.PUBLIC_BASE_URL = "https://omni.example.com"
    anna = shopper("Anna")

    link = services.survey_link(anna, {**CONTEXT, "survey_scale": "csat"})

    assert link.startswith("https://omni.example.com/survey/")
    survey = read_survey_token(token_of(link))
    assert (survey.customer, survey.scale, survey.order_number) == (anna, "csat", "P000042")
    assert (survey.order_channel, survey.store_code, survey.campaign_code) == (
        "ios",
        "PAR-RIV",
        CONTEXT["campaign_code"],
    )
    assert not survey.preview


def test_nps_is_asked_unless_the_context_says_otherwise():
    link = services.survey_link(shopper("Anna"), CONTEXT)

    assert read_survey_token(token_of(link)).scale == "nps"


@pytest.mark.parametrize("context", [{}, {"order_number": "P1"}, {"order_channel": "web"}])
def test_without_an_order_the_variable_renders_empty(context):
    value = services.survey_link(shopper("Anna"), context)

    assert value == ""
    assert render("Thanks!{{ survey_link }}", {"survey_link": value}) == "Thanks!"


def test_the_link_renders_into_html_escaped():
    link = services.survey_link(shopper("Anna"), CONTEXT)

    html = render('<a href="{{ survey_link }}">Rate us</a>', {"survey_link": link}, html=True)

    assert html == f'<a href="{link}">Rate us</a>'  # a signed token needs no escaping


def test_the_preview_shows_a_sample_link_that_records_nothing(client):
    anna = shopper("Anna", "email")
    spring = campaign([anna])
    spring.variants.update(email_text="How did we do? {{ survey_link }}")

    preview = selectors.preview_campaign(spring, anna)

    [email] = [m for m in preview.variants[0].messages if m.channel == "email"]
    link = email.body.removeprefix("How did we do? ")
    survey = read_survey_token(token_of(link))
    assert survey.preview
    assert survey.campaign_code == str(spring.public_id)
    page = client.post(urlsplit(link).path, {"score": "9"})
    assert page.status_code == 200
    assert b"Nothing you answer here is recorded" in page.content
    assert not Touchpoint.objects.filter(kind=Touchpoint.Kind.SURVEY_ANSWER).exists()
