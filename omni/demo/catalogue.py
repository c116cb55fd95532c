"""Demo stores, catalogue and stock: every state an inventory manager should see once.

Stock arrives through the ledger (receipts with idempotency keys), so loading the demo again
replays them and changes nothing; the other stories are created only when absent.
"""

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from inventory import services
from inventory.images import add_product_image
from inventory.models import (
    Category,
    CycleCount,
    Location,
    Product,
    Reservation,
    Sku,
    StockLevel,
    StockMovement,
    Transfer,
)
from inventory.services import MovementSpec, StockLine

LOCATIONS = [
    # code, name, kind, city, postcode, latitude, longitude, pick-up, ship-from
    ("PAR-RIV", "Paris Rivoli", "store", "Paris", "75001", "48.860600", "2.347800", True, True),
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

CATEGORIES = [
    # code, name, parent code
    ("clothing", "Clothing", None),
    ("outerwear", "Outerwear", "clothing"),
    ("knitwear", "Knitwear", "clothing"),
    ("footwear", "Footwear", None),
    ("accessories", "Accessories", None),
]

PRODUCTS = [
    # code, name, category, colour for the picture, sizes, price
    ("rain-jacket", "Packable rain jacket", "outerwear", "#2f6690", ["S", "M", "L", "XL"], "89"),
    ("merino-crew", "Merino crew jumper", "knitwear", "#8c5e58", ["S", "M", "L"], "69"),
    ("trail-shoe", "Trail running shoe", "footwear", "#d1495b", ["40", "41", "42", "43"], "119"),
    ("canvas-tote", "Canvas tote bag", "accessories", "#c9a227", ["one size"], "24"),
    ("down-vest", "Lightweight down vest", "outerwear", "#3a7d44", ["S", "M", "L"], "99"),
    ("wool-beanie", "Ribbed wool beanie", "accessories", "#5c4d7d", ["one size"], "19"),
]

# Units received per SKU at each location; the stores hold less than the warehouse.
RECEIVED = {"ORL-DC": 40, "LYS-PDI": 12, "PAR-RIV": 8, "PAR-BAS": 6}
# Stories the demo tells, each visible in the admin and the API:
SOLD_OUT = ("TRAIL-SHOE-42", "PAR-BAS")  # nothing left: "out" in the availability API
RUNNING_LOW = ("RAIN-JACKET-M", "PAR-RIV")  # under its reorder point: a low-stock alert


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
    categories: dict[str, Category] = {}
    for code, name, parent in CATEGORIES:
        categories[code], _ = Category.objects.update_or_create(
            code=code, defaults={"name": name, "parent": categories.get(parent) if parent else None}
        )
    for number, (code, name, category, colour, sizes, price) in enumerate(PRODUCTS):
        product, _ = Product.objects.update_or_create(
            code=code, defaults={"name": name, "category": categories[category]}
        )
        if not product.images.exists():
            picture = ContentFile(product_picture(name, colour), name=f"{code}.png")
            add_product_image(product=product, upload=picture, alt_text=name)
        for size_number, size in enumerate(sizes):
            Sku.objects.update_or_create(
                code=f"{code}-{size}".upper().replace(" ", "-"),
                defaults={
                    "product": product,
                    "attributes": {"size": size},
                    "price": Decimal(price),
                    # A demo purchase price (45 % of the shelf price) so margins show.
                    "cost_price": (Decimal(price) * Decimal("0.45")).quantize(Decimal("0.01")),
                    "barcode": ean13(f"376000{number:03d}{size_number:03d}"),
                },
            )


def ean13(first_twelve: str) -> str:
    """Complete a 12-digit prefix with its EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return first_twelve + str((10 - total % 10) % 10)


def load_stock() -> None:
    skus = {sku.code: sku for sku in Sku.objects.all()}
    places = {place.code: place for place in Location.objects.all()}
    services.record_movements(
        [
            MovementSpec(
                sku.pk,
                places[place].pk,
                StockMovement.Kind.RECEIPT,
                units,
                reason="Opening stock",
                idempotency_key=f"demo:receipt:{sku.code}:{place}",
            )
            for sku in skus.values()
            for place, units in RECEIVED.items()
        ],
        source="demo",
    )
    StockLevel.objects.filter(location__kind=Location.Kind.STORE).update(
        safety_stock=1, reorder_point=3
    )
    sold_out_sku, sold_out_at = SOLD_OUT
    low_sku, low_at = RUNNING_LOW
    _sell_down_to(skus[sold_out_sku], places[sold_out_at], 0)
    _sell_down_to(skus[low_sku], places[low_at], 2)
    _load_reservations(skus, places)
    _load_transfers(skus, places)
    _load_cycle_count(skus, places)
    services.raise_low_stock_alerts()


def _sell_down_to(sku: Sku, place: Location, units_left: int) -> None:
    level = StockLevel.objects.get(sku=sku, location=place)
    if level.on_hand > units_left:
        services.sell_in_store(
            location=place, lines={sku: level.on_hand - units_left}, reference="demo:till"
        )


def _load_reservations(skus, places) -> None:
    if Reservation.objects.filter(reference__startswith="demo:").exists():
        return
    rivoli, lyon = places["PAR-RIV"], places["LYS-PDI"]
    services.reserve(
        lines=[StockLine(skus["MERINO-CREW-M"].pk, rivoli.pk, 1)],
        kind=Reservation.Kind.CART_HOLD,
        reference="demo:cart:camille",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    services.reserve(
        lines=[
            StockLine(skus["DOWN-VEST-L"].pk, lyon.pk, 1),
            StockLine(skus["WOOL-BEANIE-ONE-SIZE"].pk, lyon.pk, 2),
        ],
        kind=Reservation.Kind.ORDER,
        reference="demo:order:pickup-lyon",
    )


def _load_transfers(skus, places) -> None:
    if Transfer.objects.filter(note__startswith="Demo:").exists():
        return
    warehouse, rivoli, bastille = places["ORL-DC"], places["PAR-RIV"], places["PAR-BAS"]
    jackets = {skus["RAIN-JACKET-M"]: 6, skus["RAIN-JACKET-L"]: 4}
    received = services.request_transfer(
        source=warehouse, destination=bastille, lines=jackets, note="Demo: autumn top-up"
    )
    services.ship_transfer(transfer=received)
    services.receive_transfer(transfer=received)
    in_transit = services.request_transfer(
        source=warehouse,
        destination=bastille,
        lines={skus["TRAIL-SHOE-42"]: 4},
        note="Demo: trail shoes on the way",
    )
    services.ship_transfer(transfer=in_transit)
    services.request_transfer(
        source=warehouse,
        destination=rivoli,
        lines={skus["RAIN-JACKET-M"]: 8},
        note="Demo: requested by Paris Rivoli",
    )


def _load_cycle_count(skus, places) -> None:
    if CycleCount.objects.filter(note__startswith="Demo:").exists():
        return
    services.record_cycle_count(
        location=places["LYS-PDI"],
        counts={skus["CANVAS-TOTE-ONE-SIZE"]: 10, skus["WOOL-BEANIE-ONE-SIZE"]: 12},
        source="clerk",
        note="Demo: Monday accessories count",
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
