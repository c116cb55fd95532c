"""A small, realistic data set for the one-command demo: a few stores, a warehouse, products
with images and stock, customers, a loyalty programme and the staff accounts that show each
surface. One module per area; ``load_demo`` loads them all.

Loading is idempotent: every row is found by its natural key, so `make run` can load it again.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.db.models import Q

from campaigns.models import Campaign, Coupon, Offer, Segment
from customers.models import Customer
from inventory.models import Location
from omni.demo.catalogue import load_catalogue, load_locations, load_stock
from omni.demo.customers import load_customers
from omni.demo.loyalty import load_loyalty
from omni.demo.orders import load_orders
from omni.models import StoreAssignment


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    where: str


ACCOUNTS = [
    DemoAccount("admin", "omni-admin-demo", "superuser", "/admin/"),
    DemoAccount(
        "manager",
        "omni-manager-demo",
        "marketing manager (loyalty rules, approvals, exports)",
        "/admin/",
    ),
    DemoAccount("marketer", "omni-marketer-demo", "marketer", "/admin/"),
    DemoAccount("clerk", "omni-clerk-demo", "store clerk at Paris Rivoli", "/clerk/"),
]

# App labels each demo group may work on; everything else they may only read.
GROUP_EDITS = {
    "Managers": ["campaigns", "loyalty"],
    "Marketers": ["campaigns", "loyalty"],
    "Clerks": [],
}
GROUP_READS = {
    "Managers": ["customers", "inventory", "orders"],
    "Marketers": ["customers", "inventory", "orders"],
    "Clerks": ["customers", "inventory", "orders", "loyalty"],
}
# What a manager decides and a marketer only reads (the marketer keeps the view permission):
# the programme's rules and what a point is worth, approving another person's large points
# adjustment, and taking customers' data out of the back-office (exports, ad audiences).
PROGRAMME_RULES = [
    f"loyalty.{action}_{model}"
    for model in ("programme", "tier", "earnrule")
    for action in ("add", "change", "delete")
]
GROUP_WITHHELD = {
    "Managers": [],
    "Marketers": [
        *PROGRAMME_RULES,
        "loyalty.approve_points_adjustment",
        # Hashed customer identifiers leave for ad platforms: a manager's call, like exports.
        "campaigns.export_audience",
    ],
    "Clerks": [],
}
# Service conversations: managers and clerks take, solve and answer customers' questions.
ANSWER_CUSTOMERS = ["customers.change_conversation", "customers.reply_conversation"]
GROUP_EXTRA = {
    "Managers": ["customers.export_customers", *ANSWER_CUSTOMERS],
    "Marketers": [],
    "Clerks": ANSWER_CUSTOMERS,
}


@transaction.atomic
def load_demo() -> list[DemoAccount]:
    load_locations()
    load_catalogue()
    load_stock()
    load_customers()
    load_loyalty()
    load_orders()
    load_campaigns()
    load_offers()
    load_staff()
    return ACCOUNTS


LAPSED_WEB_SHOPPERS = {
    "and": [
        {"field": "bought_in_channel", "operator": "in", "value": ["web"]},
        {"field": "recency_days", "operator": "gte", "value": 90},
    ]
}


def load_campaigns() -> None:
    segment, _ = Segment.objects.get_or_create(
        name="Lapsed web shoppers",
        defaults={"description": "Bought online, not in 90 days.", "rules": LAPSED_WEB_SHOPPERS},
    )
    campaign, created = Campaign.objects.get_or_create(
        name="Autumn rain-ready",
        defaults={"channels": ["push", "email", "sms"], "segment": segment},
    )
    if created:
        campaign.variants.create(
            code="A",
            email_subject='{{ first_name|default:"Hello" }}, ready for the rain?',
            email_text='Our rain jackets are back at {{ store|default:"your store" }}.',
            email_html='<p>Our rain jackets are back at {{ store|default:"your store" }}.</p>',
            sms_text='Rain jackets are back at {{ store|default:"your store" }}.',
            push_title="Ready for the rain?",
            push_body="Rain jackets are back.",
            push_link="omni://products/rain",
            counter_message="Tell {{ first_name }} about the new rain jackets.",
        )


def load_offers() -> None:
    """An automatic offer for everyone, a shared welcome code, and Camille's own code, which the
    clerk sees on her page and applies at the till in one click."""
    Offer.objects.get_or_create(
        name="Rain-ready week: 10% off from 100 EUR",
        defaults={
            "reward": Offer.Reward.PERCENT_OFF_CART,
            "value": Decimal("10"),
            "min_spend": Decimal("100"),
        },
    )
    welcome, _ = Offer.objects.get_or_create(
        name="Welcome: 5 EUR off",
        defaults={
            "trigger": Offer.Trigger.CODE,
            "reward": Offer.Reward.AMOUNT_OFF_CART,
            "value": Decimal("5"),
            "min_spend": Decimal("30"),
        },
    )
    Coupon.objects.get_or_create(
        code="WELCOME5", defaults={"offer": welcome, "max_uses_per_customer": 1}
    )
    camille = Customer.objects.filter(email="camille.martin@example.com").first()
    if camille:
        Coupon.objects.get_or_create(
            code="CAMILLE5",
            defaults={"offer": welcome, "customer": camille, "max_uses": 1},
        )


def _permissions(names: list[str]) -> Q:
    """Permissions named "app_label.codename", as one filter (nothing when the list is empty)."""
    named = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        named |= Q(content_type__app_label=app_label, codename=codename)
    return named


def load_staff() -> None:
    for group_name in GROUP_EDITS:
        group, _ = Group.objects.get_or_create(name=group_name)
        reads = Q(content_type__app_label__in=GROUP_READS[group_name], codename__startswith="view_")
        group.permissions.set(
            Permission.objects.filter(
                Q(content_type__app_label__in=GROUP_EDITS[group_name])
                | reads
                | _permissions(GROUP_EXTRA[group_name])
            ).exclude(_permissions(GROUP_WITHHELD[group_name]))
        )
    groups = {"manager": "Managers", "marketer": "Marketers", "clerk": "Clerks"}
    for account in ACCOUNTS:
        user, _ = User.objects.get_or_create(username=account.username)
        user.is_staff = True
        user.is_superuser = account.username == "admin"
        user.set_password(account.password)
        user.save()
        if account.username in groups:
            user.groups.set([Group.objects.get(name=groups[account.username])])
    assign_demo_clerk()


def assign_demo_clerk() -> None:
    """The demo clerk works at Paris Rivoli, where the demo has orders to pick and hand over
    (a manager who moves the clerk in the admin keeps that choice on the next load)."""
    store = Location.objects.filter(code="PAR-RIV").first()
    if store is not None:
        StoreAssignment.objects.get_or_create(
            user=User.objects.get(username="clerk"), defaults={"store": store}
        )
