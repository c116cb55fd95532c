"""Campaigns ready to send: a static segment of chosen customers, a variant A with content in
every channel, and customers reachable on chosen channels."""

from datetime import timedelta
from itertools import count

from django.utils import timezone

from campaigns.models import Campaign, CampaignVariant, Segment, SegmentMembership
from customers.models import Consent, Customer, Identity
from tests.customers.factories import CustomerFactory

_numbers = count(1)

CONTENT = {
    "email_subject": "{{ first_name }}, spring is here",
    "email_html": "<p>Hello {{ first_name }}, use {{ code }}</p>",
    "email_text": "Hello {{ first_name }}, use {{ code }}",
    "sms_text": "Hi {{ first_name }}: {{ code }}",
    "push_title": "Spring",
    "push_body": "Hi {{ first_name }}",
    "push_link": "omni://offers",
    "counter_message": "Offer {{ first_name }} the spring code {{ code }}",
}


def audience(customers: list[Customer], name: str = "") -> Segment:
    made = Segment.objects.create(
        name=name or f"Audience {next(_numbers)}", kind=Segment.Kind.STATIC
    )
    SegmentMembership.objects.bulk_create(
        SegmentMembership(segment=made, customer=c, joined_at=timezone.now()) for c in customers
    )
    return made


def campaign(customers: list[Customer] | None = None, *, variants=("A",), **fields) -> Campaign:
    values = {
        "name": "Spring",
        "channels": ["push", "email", "sms"],
        "segment": audience(customers or []),
        **fields,
    }
    made = Campaign.objects.create(**values)
    for code in variants:
        CampaignVariant.objects.create(campaign=made, code=code, **CONTENT)
    return made


def reachable(customer: Customer, *channels: str, device: str = "") -> Customer:
    """Consent to marketing on each channel (an hour ago), and an app install if given."""
    for channel in channels:
        Consent.objects.create(
            customer=customer,
            channel=channel,
            purpose="marketing",
            granted=True,
            source_channel="web",
            recorded_at=timezone.now() - timedelta(hours=1),
        )
    if device:
        Identity.objects.create(customer=customer, kind=Identity.Kind.DEVICE, value=device)
    return customer


def shopper(name: str, *channels: str, device: str = "", **fields) -> Customer:
    email = f"{name.lower()}{next(_numbers)}@example.com"
    values = {"first_name": name, "email": email, "phone": "", **fields}
    return reachable(CustomerFactory(**values), *channels, device=device)
