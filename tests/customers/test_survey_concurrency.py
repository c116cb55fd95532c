"""Two answers to the same survey at the same instant (a double tap, two devices) still make
one touchpoint: the unique event id holds it, and the later answer corrects the first."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from customers.models import Touchpoint
from customers.services import survey_url
from tests.concurrency import run_concurrently
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_concurrent_posts_of_one_survey_make_one_touchpoint():
    camille = CustomerFactory()
    url = urlsplit(
        survey_url(camille, scale="nps", order_number="P000042", order_channel="web")
    ).path
    scores = ["3", "4", "5", "6", "7", "8"]

    def answer(score):
        return lambda: Client(REMOTE_ADDR=f"10.0.0.{score}").post(url, {"score": score})

    outcome = run_concurrently([answer(score) for score in scores], AssertionError)

    summary = outcome.summary(len(scores))
    assert not outcome.crashed, summary
    assert [response.status_code for response in outcome.granted] == [200] * len(scores)
    [row] = Touchpoint.objects.filter(kind=Touchpoint.Kind.SURVEY_ANSWER)
    assert row.customer == camille
    assert str(row.properties["score"]) in scores
