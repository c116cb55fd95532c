"""The clerk's customer page shows the customer's latest satisfaction answers (score, order,
comment), so whoever serves them next knows how the last visit went."""

import pytest

from customers.services import Survey, answer_survey
from tests.loyalty.factories import customer
from tests.omni.test_clerk import clerk_at, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client):
    client.force_login(clerk_at(store("PAR-RIV", "Paris Rivoli")))
    return client


@pytest.fixture
def camille(db):
    return customer(first_name="Camille", email="camille@example.com")


def answered(customer, scale, score, number, comment=""):
    survey = Survey(customer=customer, scale=scale, order_number=number, order_channel="store")
    return answer_survey(survey=survey, score=score, comment=comment, answered_via="test")


def test_the_customer_page_shows_the_latest_answers(clerk_client, camille):
    for n, score in enumerate((9, 10, 3, 6)):
        answered(camille, "nps", score, f"S00000{n}")
    answered(camille, "csat", 2, "S000009", comment="Queue was long")

    page = clerk_client.get(f"/clerk/customers/{camille.public_id}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Latest survey answers" in html
    assert "Queue was long" in html
    for shown in ("S000009", "S000003", "S000002"):
        assert shown in html
    assert "S000000" not in html  # only the latest three


def test_no_section_without_answers(clerk_client, camille):
    page = clerk_client.get(f"/clerk/customers/{camille.public_id}/")

    assert "Latest survey answers" not in page.content.decode()
