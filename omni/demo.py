"""A small, realistic data set for the one-command demo: a few stores, a warehouse, products
with images, customers, a loyalty programme and the staff accounts that show each surface.

Loading is idempotent: every row is found by its natural key, so `make run` can load it again.
"""

import io
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group, Permission, User
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from campaigns.models import Campaign, Segment
from customers.models import Customer, Identity
from inventory.models import Location, Product, Sku
from loyalty.models import Programme, Tier
from omni.channels import Channel

LOCATIONS = [
    # code, name, kind, city, postcode, latitude, longitude, pick-up, ship-from
    ("PAR-RIV", "Paris Rivoli", "store", "Paris", "75001", "48.860600", "2.347800", True, False),
    ("PAR-BAS", "Paris Bastille", "store", "Paris", "75011", "48.853200", "2.369100", True, False),
    ("LYS-PDI", "Lyon Part-Dieu", "store", "Lyon", "69003", "45.760900", "4.858400", True, True),
    (
        "ORL-DC",
        "Orléans distribution centre",
        "warehouse",
        "Saran",
        "45770",
        "47.950000",
        "1.876000",
        False,
        True,
    ),
]

OPEN_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat")

PRODUCTS = [
    # code, name, colour for the picture, sizes, price
    ("rain-jacket", "Packable rain jacket", "#2f6690", ["S", "M", "L", "XL"], "89.00"),
    ("merino-crew", "Merino crew jumper", "#8c5e58", ["S", "M", "L"], "69.00"),
    ("trail-shoe", "Trail running shoe", "#d1495b", ["40", "41", "42", "43", "44"], "119.00"),
    ("canvas-tote", "Canvas tote bag", "#c9a227", ["one size"], "24.00"),
    ("down-vest", "Lightweight down vest", "#3a7d44", ["S", "M", "L"], "99.00"),
    ("wool-beanie", "Ribbed wool beanie", "#5c4d7d", ["one size"], "19.00"),
]

CUSTOMERS = [
    # first, last, e-mail, phone, channel first seen
    ("Camille", "Martin", "camille.martin@example.com", "+33612345678", Channel.WEB),
    ("Louis", "Bernard", "louis.bernard@example.com", "+33623456789", Channel.STORE),
    ("Chloé", "Dubois", "chloe.dubois@example.com", "+33634567890", Channel.IOS),
    ("Hugo", "Thomas", "hugo.thomas@example.com", "+33645678901", Channel.ANDROID),
    ("Léa", "Robert", "lea.robert@example.com", "+33656789012", Channel.WEB),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    where: str


ACCOUNTS = [
    DemoAccount("admin", "omni-admin-demo", "superuser", "/admin/"),
    DemoAccount("marketer", "omni-marketer-demo", "marketer", "/admin/"),
    DemoAccount("clerk", "omni-clerk-demo", "store clerk", "/admin/"),
]

# App labels each demo group may work on; everything else they may only read.
GROUP_EDITS = {"Marketers": ["campaigns", "loyalty"], "Clerks": []}
GROUP_READS = {
    "Marketers": ["customers", "inventory", "orders"],
    "Clerks": ["customers", "inventory", "orders", "loyalty"],
}


@transaction.atomic
def load_demo() -> list[DemoAccount]:
    load_locations()
    load_catalogue()
    load_customers()
    load_loyalty()
    load_campaigns()
    load_staff()
    return ACCOUNTS


def load_locations() -> None:
    for code, name, kind, city, postcode, lat, lng, pickup, ship in LOCATIONS:
        Location.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "city": city,
                "postcode": postcode,
                "latitude": Decimal(lat),
                "longitude": Decimal(lng),
                "pickup_enabled": pickup,
                "ship_from_enabled": ship,
                "opening_hours": dict.fromkeys(OPEN_DAYS, "10:00-19:30"),
            },
        )


def load_catalogue() -> None:
    for code, name, colour, sizes, price in PRODUCTS:
        product, _ = Product.objects.update_or_create(code=code, defaults={"name": name})
        if not product.image:
            product.image.save(f"{code}.png", ContentFile(product_picture(name, colour)), save=True)
        for size in sizes:
            Sku.objects.update_or_create(
                code=f"{code}-{size}".upper().replace(" ", "-"),
                defaults={
                    "product": product,
                    "attributes": {"size": size},
                    "price": Decimal(price),
                },
            )


def product_picture(name: str, colour: str) -> bytes:
    """A plain square picture with the product's name, standing in for a photograph."""
    image = Image.new("RGB", (600, 600), colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    draw.multiline_text(
        (300, 300),
        name.replace(" ", "\n"),
        fill="white",
        font=font,
        anchor="mm",
        align="center",
        spacing=12,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def load_customers() -> None:
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


def load_loyalty() -> None:
    programme, _ = Programme.objects.get_or_create(name="Omni Rewards")
    for rank, (name, spend, multiplier) in enumerate(
        [("Member", "0", "1.00"), ("Silver", "500", "1.25"), ("Gold", "1500", "1.50")]
    ):
        Tier.objects.update_or_create(
            programme=programme,
            rank=rank,
            defaults={
                "name": name,
                "qualifying_spend": Decimal(spend),
                "earn_multiplier": Decimal(multiplier),
            },
        )


def load_campaigns() -> None:
    segment, _ = Segment.objects.get_or_create(
        name="Lapsed web shoppers", defaults={"description": "Bought online, not in 90 days."}
    )
    Campaign.objects.get_or_create(
        name="Autumn rain-ready",
        defaults={"channel": Campaign.MessageChannel.EMAIL, "segment": segment},
    )


def load_staff() -> None:
    for group_name in GROUP_EDITS:
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label__in=GROUP_EDITS[group_name])
            | Permission.objects.filter(
                content_type__app_label__in=GROUP_READS[group_name], codename__startswith="view_"
            )
        )
    groups = {"marketer": "Marketers", "clerk": "Clerks"}
    for account in ACCOUNTS:
        user, _ = User.objects.get_or_create(username=account.username)
        user.is_staff = True
        user.is_superuser = account.username == "admin"
        user.set_password(account.password)
        user.save()
        if account.username in groups:
            user.groups.set([Group.objects.get(name=groups[account.username])])
