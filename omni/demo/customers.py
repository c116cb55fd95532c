"""Demo records that show what the customers app does: consents with history, touchpoints
from every channel (some from a visitor not yet known), service notes, a merged guest
profile, an erased customer, and storefront API keys with published values.

Idempotent: everything is found by a natural key or a fixed id, so loading again adds nothing.
"""

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from customers import services
from customers.models import (
    ConsentPurpose,
    ContactChannel,
    Customer,
    CustomerMerge,
    ErasureRecord,
    Identity,
    MessageChannel,
    StorefrontKey,
    hash_secret,
)
from omni.core.channels import Channel

# Published with the demo accounts' passwords; the demo refuses to load with DEBUG off.
DEMO_STOREFRONT_KEYS = {
    Channel.WEB: "sk_web_demo-key-not-secret",
    Channel.IOS: "sk_ios_demo-key-not-secret",
    Channel.ANDROID: "sk_android_demo-key-not-secret",
}
DEMO_PASSWORD = "omni-customer-demo"
GUEST_PUBLIC_ID = uuid.UUID("00000000-0000-4000-8000-00000000de01")
ERASED_PUBLIC_ID = uuid.UUID("00000000-0000-4000-8000-00000000de02")
ANONYMOUS_VISITOR = "web-demo-visitor-7f2c"


CUSTOMERS = [
    # first, last, e-mail, phone, channel first seen
    ("Camille", "Martin", "camille.martin@example.com", "+33612345678", Channel.WEB),
    ("Louis", "Bernard", "louis.bernard@example.com", "+33623456789", Channel.STORE),
    ("Chloé", "Dubois", "chloe.dubois@example.com", "+33634567890", Channel.IOS),
    ("Hugo", "Thomas", "hugo.thomas@example.com", "+33645678901", Channel.ANDROID),
    ("Léa", "Robert", "lea.robert@example.com", "+33656789012", Channel.WEB),
]


def _load_profiles() -> None:
    for first, last, email, phone, channel in CUSTOMERS:
        customer, _ = Customer.objects.update_or_create(
            email=email,
            defaults={
                "first_name": first,
                "last_name": last,
                "phone": phone,
                "first_seen_channel": channel,
            },
        )
        for kind, value in ((Identity.Kind.EMAIL, email), (Identity.Kind.PHONE, phone)):
            Identity.objects.get_or_create(kind=kind, value=value, defaults={"customer": customer})


@transaction.atomic
def load_customers() -> None:
    _load_profiles()
    for channel, raw in DEMO_STOREFRONT_KEYS.items():
        StorefrontKey.objects.get_or_create(
            key_hash=hash_secret(raw),
            defaults={"name": f"Demo {channel} storefront", "channel": channel, "prefix": raw[:12]},
        )
    customers = {c.email: c for c in Customer.objects.filter(email__endswith="@example.com")}
    camille = customers.get("camille.martin@example.com")
    louis = customers.get("louis.bernard@example.com")
    chloe = customers.get("chloe.dubois@example.com")
    if camille:
        _camille(camille)
    if louis:
        _louis(louis)
    if chloe:
        _chloe_and_her_guest_checkout(chloe)
    _erased_customer()
    _anonymous_visitor()


def _camille(camille: Customer) -> None:
    """Signed up online, consents changed over time, browses on web and phone."""
    if not camille.has_account:
        camille.password = make_password(DEMO_PASSWORD)
        camille.save(update_fields=["password"])
    if not camille.consents.exists():
        for channel, purpose, granted in [
            (ContactChannel.EMAIL, ConsentPurpose.MARKETING, True),
            (ContactChannel.SMS, ConsentPurpose.MARKETING, True),
            (ContactChannel.PUSH, ConsentPurpose.PERSONALISATION, True),
            (ContactChannel.SMS, ConsentPurpose.MARKETING, False),  # changed her mind
        ]:
            services.record_consent(
                customer=camille,
                channel=channel,
                purpose=purpose,
                granted=granted,
                source_channel=Channel.WEB,
                ip_address="203.0.113.7",
                user_agent="Mozilla/5.0 (demo)",
            )
    # A question by e-mail (through the helpdesk tool), open for any agent or clerk; resent,
    # the same external id records nothing.
    services.receive_message(
        customer=camille,
        channel=MessageChannel.EMAIL,
        subject="Rain jacket sizes",
        body="Does the rain jacket run small? I am between an M and an L.",
        external_id="<demo-camille-1@mail.example.com>",
    )
    now = timezone.now()
    events: list[tuple[str, int, dict[str, Any]]] = [
        ("page_view", 50, {"url": "https://shop.example.com/"}),
        ("ad_click", 49, {"utm": {"source": "instagram", "medium": "paid", "campaign": "autumn"}}),
        ("product_view", 48, {"sku_code": "RAIN-JACKET-M", "product_code": "rain-jacket"}),
        ("search", 30, {"properties": {"query": "merino"}}),
        ("product_view", 29, {"sku_code": "MERINO-CREW-M", "product_code": "merino-crew"}),
        ("add_to_cart", 28, {"sku_code": "MERINO-CREW-M", "properties": {"quantity": 1}}),
        ("email_open", 5, {"campaign_code": "autumn-rain-ready"}),
        ("email_click", 5, {"campaign_code": "autumn-rain-ready"}),
    ]
    services.ingest_touchpoints(
        channel=Channel.WEB,
        customer=camille,
        events=[
            {
                "type": kind,
                "event_id": f"demo-camille-{i}",
                "occurred_at": (now - timedelta(hours=hours)).isoformat(),
                **extra,
            }
            for i, (kind, hours, extra) in enumerate(events)
        ],
    )


def _louis(louis: Customer) -> None:
    """Shops in store: a clerk recorded his consent and a service contact."""
    if not louis.consents.exists():
        services.record_consent(
            customer=louis,
            channel=ContactChannel.SMS,
            purpose=ConsentPurpose.MARKETING,
            granted=True,
            source_channel=Channel.STORE,
        )
    if not louis.conversations.exists():
        services.add_service_note(
            customer=louis,
            author=None,
            via=MessageChannel.STORE,
            topic="Size exchange",
            text="Exchanged trail shoes 42 for 43 at Paris Rivoli; prefers wide fits.",
        )
        services.add_service_note(
            customer=louis,
            author=None,
            via=MessageChannel.PHONE,
            topic="Pick-up question",
            text="Asked whether a web order can be collected at Bastille. Told him yes.",
        )
    services.ingest_touchpoints(
        channel=Channel.STORE,
        customer=louis,
        events=[
            {
                "type": "store_visit",
                "event_id": "demo-louis-visit",
                "store_code": "PAR-RIV",
                "occurred_at": (timezone.now() - timedelta(days=3)).isoformat(),
            },
            {
                "type": "qr_scan",
                "event_id": "demo-louis-qr",
                "store_code": "PAR-RIV",
                "sku_code": "TRAIL-SHOE-43",
                "occurred_at": (timezone.now() - timedelta(days=3)).isoformat(),
            },
        ],
    )


def _chloe_and_her_guest_checkout(chloe: Customer) -> None:
    """She once browsed the app as a guest; signing in later merged the two profiles."""
    if CustomerMerge.objects.filter(merged_public_id=GUEST_PUBLIC_ID).exists():
        return
    guest = Customer.objects.create(public_id=GUEST_PUBLIC_ID, first_seen_channel=Channel.IOS)
    services.ingest_touchpoints(
        channel=Channel.IOS,
        customer=guest,
        events=[
            {
                "type": "product_view",
                "event_id": "demo-guest-view",
                "anonymous_id": "ios-demo-device-51ab",
                "sku_code": "DOWN-VEST-S",
                "occurred_at": (timezone.now() - timedelta(days=1)).isoformat(),
            }
        ],
    )
    services.merge_customers(
        customer=chloe, other=guest, cause="sign-in on ios with a known device id"
    )


def _erased_customer() -> None:
    if ErasureRecord.objects.filter(customer_public_id=ERASED_PUBLIC_ID).exists():
        return
    customer = Customer.objects.create(
        public_id=ERASED_PUBLIC_ID,
        first_name="Jules",
        last_name="Petit",
        email="jules.petit@example.org",
        first_seen_channel=Channel.WEB,
    )
    services.erase_customer(customer=customer, requested_via="api:web")


def _anonymous_visitor() -> None:
    """Events of a visitor nobody knows yet: they join a profile when the id is resolved."""
    services.ingest_touchpoints(
        channel=Channel.WEB,
        events=[
            {
                "type": "product_view",
                "event_id": f"demo-visitor-{i}",
                "anonymous_id": ANONYMOUS_VISITOR,
                "sku_code": sku,
                "occurred_at": (timezone.now() - timedelta(minutes=30 - i)).isoformat(),
            }
            for i, sku in enumerate(["CANVAS-TOTE-ONE-SIZE", "WOOL-BEANIE-ONE-SIZE"])
        ],
    )
