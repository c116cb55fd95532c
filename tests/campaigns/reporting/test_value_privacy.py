"""A customer's lifetime value is personal data: in their export, gone at erasure, and the
merged profile's value dropped at a merge (the next run values the person on both profiles'
orders) so the survivor keeps one row."""

import json
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from campaigns.models import ClvFit, CustomerValue
from customers.selectors import customer_export
from customers.services import erase_customer, merge_customers
from tests.campaigns.conftest import NOW

pytestmark = pytest.mark.django_db


def value_of(customer, fit, clv="250.00"):
    return CustomerValue.objects.create(
        customer=customer,
        fit=fit,
        orders=2,
        online_orders=1,
        store_orders=1,
        revenue=Decimal("210.00"),
        channel_mix="omnichannel",
        first_purchase_on=NOW.date(),
        last_purchase_on=NOW.date(),
        repeat_purchases=1,
        expected_purchases_90d=0.8,
        p_alive=0.7,
        expected_spend=Decimal("95.00"),
        predicted_clv=Decimal(clv),
        fitted_at=NOW,
    )


@pytest.fixture
def fit(db):
    return ClvFit.objects.create(
        fitted_at=NOW,
        observed_until=NOW.date(),
        horizon_days=365,
        annual_discount_rate=Decimal("0.1"),
        customers=2,
        repeat_customers=2,
        bgnbd={},
        gamma_gamma={},
        holdout_days=0,
    )


def test_the_export_holds_the_lifetime_value(town, fit):
    value_of(town.anna, fit)

    document = customer_export(town.anna, now=NOW)

    section = json.loads(json.dumps(document["campaigns"], cls=DjangoJSONEncoder))
    assert section["lifetime_value"]["predicted_clv"] == "250.00"
    assert section["lifetime_value"]["channel_mix"] == "omnichannel"
    assert "campaigns.CustomerValue" not in document.get("held_by_other_apps", {})
    assert customer_export(town.ben, now=NOW)["campaigns"]["lifetime_value"] is None


def test_erasure_removes_the_value(town, fit):
    value_of(town.anna, fit)

    erase_customer(customer=town.anna, requested_via="email")

    assert not CustomerValue.objects.filter(customer=town.anna).exists()


def test_a_merge_keeps_the_survivors_value_only(town, fit):
    value_of(town.anna, fit, clv="250.00")
    value_of(town.chloe, fit, clv="90.00")

    merge_customers(customer=town.anna, other=town.chloe, cause="same person")

    assert list(CustomerValue.objects.values_list("customer__first_name", "predicted_clv")) == [
        ("anna", Decimal("250.00"))
    ]
