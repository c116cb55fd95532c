"""Satisfaction surveys after an order: a signed link per customer, order and scale, the page
that asks the question and records the answer as one ``survey_answer`` touchpoint per order and
scale (a second answer corrects the first), and refusals that write nothing."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from customers.models import Touchpoint
from customers.services import (
    answer_survey,
    erase_customer,
    ingest_touchpoints,
    merge_customers,
    read_survey_token,
    survey_url,
)
from customers.services.surveys import SURVEY_SALT
from omni.core.errors import InvalidInput
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ORDER = {"order_number": "P000042", "order_channel": "web", "store_code": "PAR-RIV"}


def link(customer, scale="nps", **changes) -> str:
    return survey_url(customer, scale=scale, **{**ORDER, "campaign_code": "c-123", **changes})


def path_of(url: str) -> str:
    return urlsplit(url).path


def token_of(url: str) -> str:
    return path_of(url).split("/")[2]


def answers():
    return Touchpoint.objects.filter(kind=Touchpoint.Kind.SURVEY_ANSWER)


# --- Links ----------------------------------------------------------------------------------


def test_the_link_is_absolute_and_reads_back_what_it_was_made_of(settings):
    settings.PUBLIC_BASE_URL = "https://omni.example.com"
    camille = CustomerFactory()

    url = link(camille, "csat")
    survey = read_survey_token(token_of(url))

    assert url.startswith("https://omni.example.com/survey/")
    assert (survey.customer, survey.scale, survey.order_number) == (camille, "csat", "P000042")
    assert (survey.order_channel, survey.store_code, survey.campaign_code) == (
        "web",
        "PAR-RIV",
        "c-123",
    )


def test_the_token_names_the_customer_by_public_id_only():
    camille = CustomerFactory()

    payload = signing.loads(token_of(link(camille)), salt=SURVEY_SALT)

    assert payload["c"] == str(camille.public_id)
    assert str(camille.pk) not in payload.values()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scale": "stars"}, "scale"),
        ({"order_number": ""}, "order_number"),
        ({"order_channel": "fax"}, "order_channel"),
        ({"store_code": "X" * 33}, "store_code"),
    ],
)
def test_no_link_is_made_of_values_no_survey_can_have(changes, field):
    with pytest.raises(InvalidInput) as refused:
        link(CustomerFactory(), **changes)

    assert field in refused.value.details


def test_a_tampered_foreign_or_expired_token_is_refused(settings):
    settings.SURVEY_LINK_MAX_AGE_DAYS = 30
    camille = CustomerFactory()
    good = token_of(link(camille))
    unsalted = signing.dumps({"c": str(camille.public_id), "s": "nps", "o": "P1"})

    for token in (good[:-2] + "xx", unsalted, "nonsense"):
        with pytest.raises(InvalidInput, match="not valid"):
            read_survey_token(token)
    with (
        time_machine.travel(timezone.now() + timedelta(days=31)),
        pytest.raises(InvalidInput, match="expired"),
    ):
        read_survey_token(good)
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert read_survey_token(good).customer == camille


def test_a_merged_customers_link_answers_for_the_profile_they_became():
    camille, duplicate = CustomerFactory(), CustomerFactory()
    url = link(duplicate)
    merge_customers(customer=camille, other=duplicate, cause="same e-mail")

    assert read_survey_token(token_of(url)).customer == camille


def test_an_erased_customers_link_is_dead():
    camille = CustomerFactory()
    url = link(camille)
    erase_customer(customer=camille, requested_via="test")

    with pytest.raises(InvalidInput):
        read_survey_token(token_of(url))


# --- Answers --------------------------------------------------------------------------------


def test_an_answer_is_a_touchpoint_of_the_orders_channel_store_and_campaign():
    camille = CustomerFactory()
    survey = read_survey_token(token_of(link(camille, order_channel="store")))

    answer = answer_survey(survey=survey, score=9, comment=" Quick! ", answered_via="web_page")

    row = answers().get()
    assert answer.created
    assert answer.touchpoint == row
    assert (row.customer, row.channel, row.store_code, row.campaign_code) == (
        camille,
        "store",
        "PAR-RIV",
        "c-123",
    )
    assert row.properties == {
        "scale": "nps",
        "score": 9,
        "comment": "Quick!",
        "order_number": "P000042",
        "answered_via": "web_page",
    }


def test_a_second_answer_corrects_the_first_and_makes_no_second_touchpoint():
    survey = read_survey_token(token_of(link(CustomerFactory())))
    first = answer_survey(survey=survey, score=3, answered_via="web_page")

    again = answer_survey(survey=survey, score=8, comment="Sorry, misclicked", answered_via="app")

    assert not again.created
    row = answers().get()
    assert row.pk == first.touchpoint.pk
    assert (row.properties["score"], row.properties["comment"]) == (8, "Sorry, misclicked")
    assert row.occurred_at == first.touchpoint.occurred_at  # when it was first answered
    assert "corrected_at" in row.properties


def test_each_scale_of_an_order_is_its_own_answer():
    camille = CustomerFactory()
    for scale, score in (("nps", 10), ("csat", 5)):
        survey = read_survey_token(token_of(link(camille, scale)))
        answer_survey(survey=survey, score=score, answered_via="web_page")

    assert sorted(answers().values_list("properties__scale", flat=True)) == ["csat", "nps"]


@pytest.mark.parametrize(
    ("scale", "score"),
    [("nps", -1), ("nps", 11), ("csat", 0), ("csat", 6), ("nps", "7.5"), ("nps", True)],
)
def test_a_score_out_of_the_scale_is_refused_and_nothing_written(scale, score):
    survey = read_survey_token(token_of(link(CustomerFactory(), scale)))

    with pytest.raises(InvalidInput) as refused:
        answer_survey(survey=survey, score=score, answered_via="web_page")

    assert "score" in refused.value.details
    assert not answers().exists()


def test_an_over_long_comment_is_refused():
    survey = read_survey_token(token_of(link(CustomerFactory())))

    with pytest.raises(InvalidInput) as refused:
        answer_survey(survey=survey, score=7, comment="x" * 1001, answered_via="web_page")

    assert "comment" in refused.value.details
    assert not answers().exists()


def test_a_storefront_cannot_send_survey_answers_as_events():
    with pytest.raises(InvalidInput):
        ingest_touchpoints(
            channel="web",
            events=[
                {
                    "type": "survey_answer",
                    "occurred_at": timezone.now().isoformat(),
                    "anonymous_id": "web-1",
                    "properties": {"scale": "nps", "score": 10},
                }
            ],
        )

    assert not answers().exists()


# --- The page -------------------------------------------------------------------------------


def test_the_page_asks_with_one_button_per_score_and_writes_nothing(client):
    url = path_of(link(CustomerFactory()))

    page = client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert "How likely are you to recommend us" in html
    for score in range(11):
        assert f'name="score" value="{score}"' in html
    assert "<script" not in html
    assert 'name="viewport"' in html
    assert not answers().exists()


def test_posting_a_score_records_it_and_thanks(client):
    camille = CustomerFactory()
    url = path_of(link(camille, "csat"))

    page = Client(enforce_csrf_checks=True).post(url, {"score": "4", "comment": "Nice staff"})

    assert page.status_code == 200
    assert b"Thank you" in page.content
    row = answers().get()
    assert (row.customer, row.properties["score"], row.properties["comment"]) == (
        camille,
        4,
        "Nice staff",
    )
    assert row.properties["answered_via"] == "web_page"


def test_a_comment_after_the_score_completes_the_same_answer(client):
    url = path_of(link(CustomerFactory()))
    thanks = client.post(url, {"score": "9"})
    assert b'name="comment"' in thanks.content

    client.post(url, {"score": "9", "comment": "Ready on time"})

    row = answers().get()
    assert (row.properties["score"], row.properties["comment"]) == (9, "Ready on time")


def test_a_double_submit_makes_one_touchpoint(client):
    url = path_of(link(CustomerFactory()))

    client.post(url, {"score": "6"})
    client.post(url, {"score": "6"})

    assert answers().count() == 1


@pytest.mark.parametrize("score", ["11", "-1", "", "ten"])
def test_a_score_out_of_range_shows_the_form_again_and_writes_nothing(client, score):
    url = path_of(link(CustomerFactory()))

    page = client.post(url, {"score": score, "comment": "kept in the box"})

    assert page.status_code == 400
    html = page.content.decode()
    assert "Choose a score from 0 to 10" in html
    assert 'name="score" value="10"' in html
    assert "kept in the box" in html
    assert not answers().exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_or_expired_link_gets_a_400_page_and_writes_nothing(client, method):
    good = path_of(link(CustomerFactory()))
    tampered = good[:-4] + "xx/"

    refused = getattr(client, method)(tampered, {"score": "9"})
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        expired = getattr(client, method)(good, {"score": "9"})

    assert refused.status_code == expired.status_code == 400
    assert b"not valid" in refused.content
    assert b"expired" in expired.content
    assert not answers().exists()


def test_a_flood_from_one_address_is_throttled(client, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "survey.address": "3/min"}
    url = path_of(link(CustomerFactory()))

    statuses = [client.post(url, {"score": "9"}).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert answers().count() == 1
    assert int(client.post(url, {"score": "1"})["Retry-After"]) > 0
    assert answers().get().properties["score"] == 9


# --- Privacy --------------------------------------------------------------------------------


def test_the_data_export_holds_the_answers(client):
    from customers.selectors import customer_export

    camille = CustomerFactory()
    client.post(path_of(link(camille)), {"score": "10", "comment": "Great"})

    document = customer_export(camille, now=timezone.now())

    [answer] = [t for t in document["touchpoints"] if t["kind"] == "survey_answer"]
    assert answer["properties"]["score"] == 10
    assert answer["properties"]["comment"] == "Great"
    assert answer["properties"]["order_number"] == "P000042"


def test_erasure_keeps_only_the_anonymous_scale_and_score():
    camille = CustomerFactory()
    survey = read_survey_token(token_of(link(camille)))
    answer_survey(survey=survey, score=2, comment="Call me on 0612345678", answered_via="app")

    erase_customer(customer=camille, requested_via="test")

    row = answers().get()
    assert row.customer is None
    assert row.event_id == ""
    assert row.properties == {"scale": "nps", "score": 2}


def test_a_preview_link_shows_the_page_but_no_answer_is_recorded(client):
    from omni.core.errors import InvalidRequest

    camille = CustomerFactory()
    url = link(camille, preview=True)

    page = client.get(path_of(url))
    with pytest.raises(InvalidRequest):
        answer_survey(survey=read_survey_token(token_of(url)), score=9, answered_via="app")

    assert b"Preview" in page.content
    assert not answers().exists()
