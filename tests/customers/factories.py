"""Factories for customers' tests; other apps' tests may use them too."""

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.utils import timezone

from customers.models import (
    Consent,
    ConsentPurpose,
    ContactChannel,
    Conversation,
    ConversationMessage,
    Customer,
    Identity,
    Touchpoint,
)
from customers.services import issue_customer_token, issue_storefront_key
from omni.core.channels import Channel


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_seen_channel = Channel.WEB

    @factory.post_generation
    def with_email_identity(customer, create, extracted, **kwargs):
        if create and customer.email and extracted is not False:
            Identity.objects.create(
                customer=customer, kind=Identity.Kind.EMAIL, value=customer.email
            )


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    kind = Identity.Kind.LOYALTY_CARD
    value = factory.Sequence(lambda n: f"CARD{n:08d}")


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    customer = factory.SubFactory(CustomerFactory)
    channel = ContactChannel.EMAIL
    purpose = ConsentPurpose.MARKETING
    granted = True
    source_channel = Channel.WEB
    recorded_at = factory.LazyFunction(timezone.now)


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    customer = factory.SubFactory(CustomerFactory)
    kind = Touchpoint.Kind.PRODUCT_VIEW
    channel = Channel.WEB
    occurred_at = factory.LazyFunction(timezone.now)
    sku_code = "RAIN-JACKET-M"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    customer = factory.SubFactory(CustomerFactory)
    subject = "Size exchange"
    channel = "email"


class ConversationMessageFactory(factory.django.DjangoModelFactory):
    """A message of a conversation; by default the customer's, by e-mail."""

    class Meta:
        model = ConversationMessage

    conversation = factory.SubFactory(ConversationFactory)
    direction = ConversationMessage.Direction.INBOUND
    channel = factory.SelfAttribute("conversation.channel")
    body = "Can I exchange my jacket M for an L?"


class ServiceNoteFactory(ConversationMessageFactory):
    """A service note as staff record one: an internal note in a solved conversation."""

    class Meta:
        model = ConversationMessage
        exclude = ["customer", "topic"]

    customer = factory.SubFactory(CustomerFactory)
    topic = "Size exchange"
    conversation = factory.SubFactory(
        ConversationFactory,
        customer=factory.SelfAttribute("..customer"),
        subject=factory.SelfAttribute("..topic"),
        channel="note",
        status=Conversation.Status.SOLVED,
    )
    direction = ConversationMessage.Direction.NOTE
    body = "Exchanged a jacket M for L."


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "a-staff-password-1")


def storefront_key(channel: str = Channel.WEB) -> str:
    _, raw = issue_storefront_key(name=f"{channel} test storefront", channel=channel)
    return raw


def customer_token(customer: Customer, channel: str = Channel.WEB) -> str:
    return issue_customer_token(customer=customer, channel=channel)


def account_holder(email: str, password: str, **fields) -> Customer:
    """A customer who has signed up: an e-mail identity and a password."""
    return CustomerFactory(email=email, password=make_password(password), **fields)
