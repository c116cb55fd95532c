import pytest
from rest_framework.test import APIClient

from customers.models import (
    Consent,
    Conversation,
    CustomerMerge,
    ErasureRecord,
    StorefrontKey,
    Touchpoint,
)
from omni.demo.customers import DEMO_PASSWORD, DEMO_STOREFRONT_KEYS, load_customers

pytestmark = pytest.mark.django_db

MODELS = (Consent, Conversation, CustomerMerge, ErasureRecord, StorefrontKey, Touchpoint)


def test_the_demo_shows_consents_touchpoints_notes_a_merge_and_an_erasure():
    load_customers()

    assert Consent.objects.filter(granted=False).exists()
    assert Touchpoint.objects.filter(customer=None).exists()
    assert Touchpoint.objects.exclude(customer=None).values("channel").distinct().count() >= 3
    assert Conversation.objects.exists()
    assert CustomerMerge.objects.exists()
    assert ErasureRecord.objects.exists()


def test_loading_the_customers_demo_again_adds_nothing():
    load_customers()
    counts = {model: model.objects.count() for model in MODELS}

    load_customers()

    assert {model: model.objects.count() for model in MODELS} == counts


def test_the_demo_storefront_key_and_customer_sign_in_work():
    load_customers()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=DEMO_STOREFRONT_KEYS["web"])

    response = client.post(
        "/api/v1/customers/sign-in",
        {"email": "camille.martin@example.com", "password": DEMO_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
