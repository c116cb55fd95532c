"""Identities are normalised, and resolving them finds, creates or merges one customer."""

import pytest

from customers.models import Customer, CustomerMerge, Identity, Touchpoint
from customers.normalise import normalise_identity
from customers.services import resolve_customer
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from tests.customers.factories import CustomerFactory, IdentityFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("phone", "06 12 34 56 78", "+33612345678"),
        ("phone", "+33 (0)6 12 34 56 78", "+33612345678"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("email", "  Camille.Martin@Example.COM ", "camille.martin@example.com"),
        ("loyalty_card", "omni 1234-5678", "OMNI12345678"),
        ("external", "shopify:998877", "shopify:998877"),
    ],
)
def test_identity_values_are_stored_in_one_normal_form(kind, raw, stored):
    assert normalise_identity(kind, raw) == stored


def test_phone_numbers_without_a_country_code_are_read_in_the_configured_region(settings):
    settings.DEFAULT_PHONE_REGION = "GB"

    assert normalise_identity("phone", "020 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    ("kind", "raw", "field"),
    [
        ("phone", "call me maybe", "phone"),
        ("phone", "+33 6 12", "phone"),
        ("email", "not-an-address", "email"),
        ("external", "998877", "external"),
        ("device", "   ", "device"),
        ("fax", "123", "kind"),  # the kind itself is what is wrong
    ],
)
def test_unreadable_identity_values_are_refused_naming_the_field(kind, raw, field):
    with pytest.raises(InvalidInput) as refused:
        normalise_identity(kind, raw)

    assert list(refused.value.details) == [field]
    assert refused.value.details[field]  # with a message for it


def test_resolving_unknown_identities_creates_one_customer_holding_them_all():
    resolution = resolve_customer(
        identities=[("email", "New.Person@example.com"), ("phone", "0612345678")],
        channel=Channel.STORE,
        cause="test",
    )

    assert resolution.created
    customer = resolution.customer
    assert customer.first_seen_channel == Channel.STORE
    assert (customer.email, customer.phone) == ("new.person@example.com", "+33612345678")
    assert set(customer.identities.values_list("kind", "value")) == {
        ("email", "new.person@example.com"),
        ("phone", "+33612345678"),
    }


def test_resolving_a_known_identity_returns_its_customer_and_adds_the_new_ones():
    customer = CustomerFactory(email="known@example.com")

    resolution = resolve_customer(
        identities=[("email", "KNOWN@example.com"), ("loyalty_card", "card 42")], cause="test"
    )

    assert not resolution.created
    assert resolution.customer == customer
    assert customer.identities.filter(kind="loyalty_card", value="CARD42").exists()
    assert Customer.objects.count() == 1


def test_identities_of_two_customers_merge_them_into_the_older():
    online = CustomerFactory(email="online@example.com", phone="")
    store = CustomerFactory(email="", with_email_identity=False)
    IdentityFactory(customer=store, kind="phone", value="+33612345678")

    resolution = resolve_customer(
        identities=[("email", "online@example.com"), ("phone", "06 12 34 56 78")],
        cause="clerk linked a phone",
    )

    assert resolution.customer == online
    assert not Customer.objects.filter(pk=store.pk).exists()
    assert resolution.customer.phone == "+33612345678"
    (merge,) = resolution.merges
    assert merge.merged_public_id == store.public_id
    assert merge.cause == "clerk linked a phone"


def test_resolving_an_anonymous_id_links_the_visitors_earlier_events():
    earlier = TouchpointFactory.create_batch(3, customer=None, anonymous_id="web-abc")
    other_visitor = TouchpointFactory(customer=None, anonymous_id="web-xyz")

    customer = resolve_customer(
        identities=[("email", "visitor@example.com"), ("anonymous", "web-abc")], cause="test"
    ).customer

    assert set(customer.touchpoints.all()) == set(earlier)
    other_visitor.refresh_from_db()
    assert other_visitor.customer is None


def test_resolving_nothing_is_refused():
    with pytest.raises(InvalidInput):
        resolve_customer(identities=[], cause="test")

    assert not Customer.objects.exists()


def test_an_unreadable_identity_stores_nothing():
    with pytest.raises(InvalidInput):
        resolve_customer(identities=[("email", "a@example.com"), ("phone", "nope")], cause="t")

    assert not Customer.objects.exists()
    assert not Identity.objects.exists()
    assert not CustomerMerge.objects.exists()
    assert not Touchpoint.objects.exists()
