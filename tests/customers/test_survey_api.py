"""POST /api/v1/customers/me/surveys: apps answer a survey in the app, with a link's token or
the number of one of the customer's finished orders; only the customer's own surveys."""

from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from customers.models import Touchpoint
from customers.services import survey_url
from orders.models import Order
from tests.api_clients import app_client
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/me/surveys"


def token_for(customer, scale="nps", number="P000042") -> str:
    url = survey_url(
        customer,
        scale=scale,
        order_number=number,
        order_channel="web",
        store_code="PAR-RIV",
        campaign_code="c-9",
    )
    return urlsplit(url).path.split("/")[2]


def till_sale(customer, *, number="S000007", status="completed") -> Order:
    return Order.objects.create(
        number=number,
        customer=customer,
        channel="store",
        fulfilment=Order.Fulfilment.IN_STORE,
        store=LocationFactory(code="LYON-1"),
        status=status,
    )


def answers():
    return Touchpoint.objects.filter(kind=Touchpoint.Kind.SURVEY_ANSWER)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_without_credentials_it_is_a_401():
    response = APIClient().post(URL, {"order_number": "S1", "scale": "nps", "score": 9})

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_an_app_without_a_signed_in_customer_is_refused():
    response = app_client("ios").post(URL, {"token": "x", "score": 9}, format="json")

    assert response.status_code == 403
    assert not answers().exists()


def test_a_signed_in_customer_answers_with_the_links_token():
    camille = CustomerFactory()

    response = app_client("ios", camille).post(
        URL, {"token": token_for(camille), "score": 10, "comment": "Fast"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json() | {"answered_at": None} == {
        "order_number": "P000042",
        "scale": "nps",
        "score": 10,
        "comment": "Fast",
        "channel": "web",
        "store_code": "PAR-RIV",
        "campaign_code": "c-9",
        "answered_at": None,
    }
    row = answers().get()
    assert (row.customer, row.properties["answered_via"]) == (camille, "api:ios")


def test_another_customers_token_is_refused_and_writes_nothing():
    camille, intruder = CustomerFactory(), CustomerFactory()

    response = app_client("web", intruder).post(
        URL, {"token": token_for(camille), "score": 0}, format="json"
    )

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert not answers().exists()


def test_a_tampered_token_is_a_400():
    camille = CustomerFactory()

    response = app_client("web", camille).post(
        URL, {"token": token_for(camille)[:-2] + "xx", "score": 9}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "token" in response.json()["error"]["details"]


def test_an_answer_by_order_number_takes_the_orders_channel_and_store():
    camille = CustomerFactory()
    till_sale(camille)

    response = app_client("android", camille).post(
        URL, {"order_number": "S000007", "scale": "csat", "score": 4}, format="json"
    )

    assert response.status_code == 201, response.json()
    row = answers().get()
    assert (row.channel, row.store_code, row.campaign_code) == ("store", "LYON-1", "")
    assert row.properties["scale"] == "csat"


def test_the_same_order_answered_by_link_and_in_the_app_is_one_answer():
    camille = CustomerFactory()
    till_sale(camille)
    client = app_client("android", camille)
    client.post(URL, {"order_number": "S000007", "scale": "nps", "score": 5}, format="json")

    response = client.post(
        URL, {"order_number": "S000007", "scale": "nps", "score": 7}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["score"] == 7
    assert answers().count() == 1


def test_another_customers_order_is_not_found_and_writes_nothing():
    camille, intruder = CustomerFactory(), CustomerFactory()
    till_sale(camille)

    response = app_client("web", intruder).post(
        URL, {"order_number": "S000007", "scale": "nps", "score": 0}, format="json"
    )

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert not answers().exists()


def test_an_order_not_finished_yet_is_refused():
    camille = CustomerFactory()
    till_sale(camille, status="placed")

    response = app_client("web", camille).post(
        URL, {"order_number": "S000007", "scale": "nps", "score": 9}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert not answers().exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order_number": "S000007", "scale": "nps", "score": 11}, "score"),
        ({"order_number": "S000007", "scale": "csat", "score": 0}, "score"),
        ({"order_number": "S000007", "score": 5}, "scale"),
        ({"order_number": "S000007", "scale": "nps", "score": 5, "comment": "x" * 1001}, "comment"),
        ({"scale": "nps", "score": 5}, "non_field_errors"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(body, field):
    camille = CustomerFactory()
    till_sale(camille)

    response = app_client("web", camille).post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not answers().exists()


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer():
    camille = CustomerFactory()
    till_sale(camille)
    client = app_client("ios", camille)
    body = {"order_number": "S000007", "scale": "nps", "score": 9}

    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="survey-1")
    retry = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="survey-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert "corrected_at" not in answers().get().properties  # the retry changed nothing


def test_floods_are_throttled(settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "survey.customer": "2/min"}
    camille = CustomerFactory()
    till_sale(camille)
    client = app_client("ios", camille)
    body = {"order_number": "S000007", "scale": "nps", "score": 9}

    statuses = [client.post(URL, body, format="json").status_code for _ in range(3)]

    assert statuses == [201, 200, 429]
    assert error_code(client.post(URL, body, format="json")) == "throttled"


def test_the_schema_documents_every_status():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    responses = schema["paths"][URL]["post"]["responses"]

    assert {"200", "201", "400", "401", "403", "404", "409", "422", "429"} <= set(responses)
