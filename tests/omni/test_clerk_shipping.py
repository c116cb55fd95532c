"""Ship from store on the clerk dashboard, through Django's test client: the To ship queue, a
shipment's pick list (pick, report short, pack into parcels, ship with tracking), the order
page's shipments and "Ship from this store", refusals on the page and double submits."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from customers.models import Notification
from inventory.ledger_check import drifts_between
from inventory.models import Location, StockLevel
from omni.clerk.once import sent_once
from omni.core.errors import Conflict, InvalidRequest
from omni.core.models import IdempotencyRecord
from orders import services
from orders.models import Order, Parcel, Shipment, ShipmentLine
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer, programme
from tests.omni.test_clerk import clerk_at

pytestmark = pytest.mark.django_db

# Near Paris Rivoli: a delivery is allocated there first when it has everything.
ADDRESS = services.Address(
    "Camille Martin", "3 rue du Louvre", "Paris", "75001", "FR", 48.8610, 2.3430
)
JACKET_BARCODE = "4006381333931"


# --- Arrange (plain functions: the browser test uses them too) ------------------------------


def ship_from_chain() -> dict[str, Location]:
    """Paris Rivoli ships web orders from its shelves (5 jackets, 10 beanies); Paris Bastille
    only sells in store (4 jackets); the Orléans warehouse ships (20 jackets, no beanies)."""
    programme()
    rivoli = LocationFactory(
        code="PAR-RIV", name="Paris Rivoli", latitude="48.860600", longitude="2.347800"
    )
    bastille = LocationFactory(
        code="PAR-BAS",
        name="Paris Bastille",
        ship_from_enabled=False,
        latitude="48.853200",
        longitude="2.369100",
    )
    warehouse = LocationFactory(
        code="ORL-DC",
        name="Orléans DC",
        kind="warehouse",
        pickup_enabled=False,
        latitude="47.950000",
        longitude="1.870000",
    )
    jacket = SkuFactory(
        code="RAIN-JACKET-M",
        price="89.00",
        barcode=JACKET_BARCODE,
        product__name="Rain jacket",
        attributes={"size": "M"},
    )
    beanie = SkuFactory(code="WOOL-BEANIE", price="19.00", product__name="Wool beanie")
    stock(jacket, rivoli, 5)
    stock(jacket, bastille, 4)
    stock(jacket, warehouse, 20)
    stock(beanie, rivoli, 10)
    return {"rivoli": rivoli, "bastille": bastille, "warehouse": warehouse}


def delivery_order(buyer, lines: dict[str, int] | None = None, channel: str = "web") -> Order:
    cart = services.cart_of(customer=buyer)
    for code, quantity in (lines or {"RAIN-JACKET-M": 1}).items():
        services.set_line(cart=cart, sku_code=code, quantity=quantity, channel=channel)
    return services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel=channel,
        idempotency_key=f"checkout-{cart.public_id}",
        address=ADDRESS,
    ).order


def shipment_of(order: Order, location_code: str = "PAR-RIV") -> Shipment:
    return order.shipments.exclude(status="cancelled").get(location__code=location_code)


def shipment_url(shipment: Shipment, action: str = "") -> str:
    url = f"/clerk/orders/{shipment.order.number}/shipments/{shipment.public_id}/"
    return url + (f"{action}/" if action else "")


def line_of(shipment: Shipment, code: str) -> ShipmentLine:
    return shipment.lines.get(order_line__sku__code=code)


def level(code: str, where: str) -> tuple[int, int]:
    found = StockLevel.objects.get(sku__code=code, location__code=where)
    return found.on_hand, found.reserved


def pack_form_data(client, shipment: Shipment, **units) -> dict:
    """The pack form as the page renders it (with its one-time token), units as given."""
    page = client.get(shipment_url(shipment)).content.decode()
    token = re.search(r'name="token" value="([0-9a-f-]+)"', page).group(1)
    data = {"token": token}
    for code, quantity in units.items():
        data[f"units_{line_of(shipment, code.replace('_', '-')).pk}"] = quantity
    return data


def ship_form_data(parcel: Parcel, carrier="Colissimo", number="6A123", url="") -> dict:
    prefix = f"parcel-{parcel.public_id}"
    return {
        f"{prefix}-carrier": carrier,
        f"{prefix}-tracking_number": number,
        f"{prefix}-tracking_url": url,
    }


@pytest.fixture
def chain(db):
    return ship_from_chain()


@pytest.fixture
def camille(db):
    return customer(first_name="Camille", last_name="Martin", email="camille@example.com")


@pytest.fixture
def clerk(chain):
    return clerk_at(chain["rivoli"])


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def bastille_client(chain):
    client = Client()
    client.force_login(clerk_at(chain["bastille"], "bastille-clerk"))
    return client


# --- To ship ------------------------------------------------------------------------------


def test_to_ship_groups_the_stores_open_shipments_by_what_comes_next(clerk_client, chain, camille):
    to_pick = delivery_order(camille, {"RAIN-JACKET-M": 1, "WOOL-BEANIE": 1})
    services.pick(
        shipment=shipment_of(to_pick), line_ids=[line_of(shipment_of(to_pick), "WOOL-BEANIE").pk]
    )
    picked = delivery_order(customer(first_name="Louis"))
    services.pick(shipment=shipment_of(picked))
    packed = delivery_order(customer(first_name="Chloe"))
    services.pick(shipment=shipment_of(packed))
    services.pack(shipment=shipment_of(packed))
    gone = delivery_order(customer(first_name="Hugo"))
    services.ship(shipment=shipment_of(gone), tracking=services.Tracking("DPD", "D1"))
    elsewhere = delivery_order(customer(first_name="Lea"), {"RAIN-JACKET-M": 6})  # the warehouse

    response = clerk_client.get("/clerk/ship/")

    groups = response.context["groups"]
    assert groups.to_pick == [shipment_of(to_pick)]
    assert groups.to_pack == [shipment_of(picked)]
    assert groups.packed == [shipment_of(packed)]
    page = response.content.decode()
    assert "To ship from Paris Rivoli" in page
    assert "Camille Martin" in page
    assert "1 \u00d7 Rain jacket <code>RAIN-JACKET-M</code>" in page
    assert (
        f'href="/clerk/orders/{to_pick.number}/shipments/{shipment_of(to_pick).public_id}/"' in page
    )
    assert gone.number not in page
    assert elsewhere.number not in page


def test_late_shipments_are_flagged_and_lead_their_group(
    clerk_client, chain, camille, time_machine
):
    now = timezone.now()
    time_machine.move_to(now - timedelta(hours=30), tick=False)
    late = delivery_order(customer(first_name="Hugo"))
    time_machine.move_to(now - timedelta(hours=2), tick=False)
    recent = delivery_order(camille)
    time_machine.move_to(now, tick=False)

    response = clerk_client.get("/clerk/ship/")

    assert response.context["groups"].to_pick == [shipment_of(late), shipment_of(recent)]
    cards = re.findall(
        r'<article class="order-card( late)?">.*?</article>', response.content.decode(), re.S
    )
    assert [bool(late_class) for late_class in cards] == [True, False]
    page = response.content.decode()
    assert page.count('<span class="flag late">Late</span>') == 1
    assert "(1\xa0day, 6\xa0hours ago)" in page


def test_a_shipment_with_a_line_reported_short_says_so_in_the_queue(clerk_client, chain, camille):
    order = delivery_order(camille, {"RAIN-JACKET-M": 1, "WOOL-BEANIE": 1})
    services.report_short(
        shipment=shipment_of(order), line_id=line_of(shipment_of(order), "RAIN-JACKET-M").pk
    )

    page = clerk_client.get("/clerk/ship/").content.decode()

    assert '<span class="flag short">Short reported</span>' in page


def test_the_navigation_counts_what_is_to_ship_beside_the_pick_ups(
    clerk_client, chain, camille, time_machine
):
    time_machine.move_to(timezone.now() - timedelta(days=2))
    delivery_order(customer())
    time_machine.move_to(timezone.now() + timedelta(days=2))
    delivery_order(camille)
    delivery_order(customer(), {"RAIN-JACKET-M": 6})  # at the warehouse: not counted here

    page = clerk_client.get("/clerk/pickups/").content.decode()

    nav = re.search(r'<nav class="clerk-nav".*?</nav>', page, re.S).group(0)
    assert re.search(r'href="/clerk/pickups/">Pick-ups</a>\s*<a href="/clerk/ship/"', nav)
    assert re.search(
        r'To ship <span class="count late"\s+title="2 delivery shipments to send, 1 late">2</span>',
        nav,
    )


def test_an_empty_queue_says_so(clerk_client, chain):
    response = clerk_client.get("/clerk/ship/")

    assert b"Nothing to pick." in response.content
    assert re.search(
        rb'To ship <span class="count"\s+title="0 delivery shipments to send">0</span>',
        response.content,
    )


@pytest.mark.parametrize("orders_per_group", [1, 3])
def test_to_ship_takes_the_same_few_queries_however_long_it_is(
    clerk_client, chain, django_assert_max_num_queries, orders_per_group
):
    for _ in range(orders_per_group):
        delivery_order(customer(), {"WOOL-BEANIE": 1})
        services.pick(shipment=shipment_of(delivery_order(customer(), {"WOOL-BEANIE": 1})))
        packed = shipment_of(delivery_order(customer(), {"WOOL-BEANIE": 1}))
        services.pick(shipment=packed)
        services.pack(shipment=packed)

    # session, user, assignment with its counts, shipments with orders and customers, lines
    # with SKUs and products, parcels, parcel lines
    with django_assert_max_num_queries(7):
        response = clerk_client.get("/clerk/ship/")

    assert len(response.context["groups"].packed) == orders_per_group


# --- The pick list ------------------------------------------------------------------------


def test_the_pick_list_shows_product_sku_barcode_and_quantity_per_line(
    clerk_client, chain, camille
):
    order = delivery_order(camille, {"RAIN-JACKET-M": 2, "WOOL-BEANIE": 1})
    shipment = shipment_of(order)

    response = clerk_client.get(shipment_url(shipment))

    assert response.status_code == 200
    page = response.content.decode()
    row = re.search(r'<tr class="line line-open">.*?RAIN-JACKET-M.*?</tr>', page, re.S).group(0)
    assert "Rain jacket" in row
    assert '<span class="muted">M</span>' in row
    assert f"<code>{JACKET_BARCODE}</code>" in row
    assert '<td class="num qty-cell">2</td>' in row
    assert 'aria-label="Picked RAIN-JACKET-M"' in row
    assert "Camille Martin<br>3 rue du Louvre<br>75001 Paris FR" in page
    assert "Print the pick list" in page
    assert "Mark ticked lines picked" in page


def test_the_pick_list_prints_without_navigation_or_forms():
    text = Path(finders.find("omni/omni.css")).read_text()

    printed = re.search(r"@media print \{(.*)\}", text, re.S).group(1)
    assert ".clerk-nav" in printed
    assert ".no-print" in printed


def test_ticking_lines_picks_them_and_only_them(clerk_client, clerk, chain, camille):
    order = delivery_order(camille, {"RAIN-JACKET-M": 1, "WOOL-BEANIE": 1})
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")

    response = clerk_client.post(
        shipment_url(shipment, "pick"), {"lines": [jacket.pk]}, follow=True
    )

    assert b"1 line picked: pack them next." in response.content
    statuses = dict(shipment.lines.values_list("order_line__sku__code", "status"))
    assert statuses == {"RAIN-JACKET-M": "picked", "WOOL-BEANIE": "open"}
    assert Shipment.objects.get(pk=shipment.pk).status == "allocated"
    assert level("RAIN-JACKET-M", "PAR-RIV") == (5, 1)  # picked, still reserved here


def test_picking_with_nothing_ticked_asks_what_was_picked(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille))

    response = clerk_client.post(shipment_url(shipment, "pick"), {})

    assert response.status_code == 400
    assert b"Tick the lines you picked." in response.content
    assert shipment.lines.get().status == "open"


def test_a_line_of_another_shipment_is_not_a_valid_choice(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille))
    other = shipment_of(delivery_order(customer()))

    response = clerk_client.post(shipment_url(shipment, "pick"), {"lines": [other.lines.get().pk]})

    assert response.status_code == 400
    assert other.lines.get().status == "open"


def test_picking_twice_changes_nothing_more(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille))
    data = {"lines": [shipment.lines.get().pk]}

    first = clerk_client.post(shipment_url(shipment, "pick"), data)
    second = clerk_client.post(shipment_url(shipment, "pick"), data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert shipment.lines.get().status == "picked"
    assert Shipment.objects.get(pk=shipment.pk).status == "picked"


# --- Pack ---------------------------------------------------------------------------------


def test_picked_units_are_packed_into_parcels_of_the_clerks_choosing(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille, {"RAIN-JACKET-M": 2, "WOOL-BEANIE": 1}))
    services.pick(shipment=shipment)

    first = clerk_client.post(
        shipment_url(shipment, "pack"),
        pack_form_data(clerk_client, shipment, RAIN_JACKET_M=1, WOOL_BEANIE=1),
        follow=True,
    )
    second = clerk_client.post(
        shipment_url(shipment, "pack"), pack_form_data(clerk_client, shipment, RAIN_JACKET_M=1)
    )

    parcels = [
        dict(parcel.lines.values_list("shipment_line__order_line__sku__code", "quantity"))
        for parcel in Parcel.objects.filter(shipment=shipment)
    ]
    assert parcels == [{"RAIN-JACKET-M": 1, "WOOL-BEANIE": 1}, {"RAIN-JACKET-M": 1}]
    assert re.search(rb"Parcel [0-9A-F]{8} packed \(2 units\): ship it", first.content)
    assert second.status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).status == "packed"
    assert level("RAIN-JACKET-M", "PAR-RIV") == (5, 2)  # packed, not gone yet


def test_the_pack_form_offers_what_is_picked_and_not_packed_yet(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille, {"RAIN-JACKET-M": 3}))
    services.pick(shipment=shipment)
    services.pack(shipment=shipment, contents={shipment.lines.get().pk: 1})

    page = clerk_client.get(shipment_url(shipment)).content.decode()

    line = shipment.lines.get()
    units = re.search(rf'<input[^>]*name="units_{line.pk}"[^>]*>', page).group(0)
    assert ('value="2"' in units, 'max="2"' in units) == (True, True)
    assert "Picked: 1 packed, 2 to pack" in page


def test_the_same_pack_form_sent_twice_packs_one_parcel(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille, {"RAIN-JACKET-M": 3}))
    services.pick(shipment=shipment)
    data = pack_form_data(clerk_client, shipment, RAIN_JACKET_M=1)

    first = clerk_client.post(shipment_url(shipment, "pack"), data)
    second = clerk_client.post(shipment_url(shipment, "pack"), data)

    assert first.status_code == 302
    assert second.status_code == 409
    assert (
        b"This parcel is already packed: the form was sent twice, and packed once."
        in second.content
    )
    assert Parcel.objects.filter(shipment=shipment).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_a_double_click_on_pack_packs_one_parcel():
    chain = ship_from_chain()
    clerk = clerk_at(chain["rivoli"])
    shipment = shipment_of(delivery_order(customer(), {"RAIN-JACKET-M": 3}))
    services.pick(shipment=shipment)
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(clerk)
    data = pack_form_data(clients[0], shipment, RAIN_JACKET_M=1)

    def click(client):
        def post():
            response = client.post(shipment_url(shipment, "pack"), data)
            if response.status_code == 409:
                raise LookupError(response.content)
            assert response.status_code == 302, response.content
            return response

        return post

    outcome = run_concurrently([click(client) for client in clients], refusal=LookupError)

    assert (len(outcome.granted), len(outcome.refused)) == (1, 1), outcome.summary(2)
    assert Parcel.objects.filter(shipment=shipment).count() == 1


def test_a_pack_form_overtaken_by_another_till_is_refused_and_can_be_sent_again(
    clerk_client, chain, camille
):
    shipment = shipment_of(delivery_order(camille, {"RAIN-JACKET-M": 2}))
    services.pick(shipment=shipment)
    data = pack_form_data(clerk_client, shipment, RAIN_JACKET_M=2)
    services.pack(shipment=shipment, contents={shipment.lines.get().pk: 1})  # another till

    refused = clerk_client.post(shipment_url(shipment, "pack"), data)
    data[f"units_{shipment.lines.get().pk}"] = 1
    again = clerk_client.post(shipment_url(shipment, "pack"), data)

    assert refused.status_code == 400
    assert b"Ensure this value is less than or equal to 1." in refused.content
    assert again.status_code == 302
    assert Parcel.objects.filter(shipment=shipment).count() == 2


def test_a_form_token_is_spent_only_by_a_step_that_succeeds(clerk):
    token = uuid.uuid4()
    once = {"user": clerk, "path": "/clerk/x/", "token": token, "already": "Done already."}

    def refused_step():
        with sent_once(**once):
            IdempotencyRecord.objects.create(caller="someone", method="POST", path="/y/", key="k")
            raise InvalidRequest("Refused.")

    def step():
        with sent_once(**once):
            IdempotencyRecord.objects.create(caller="someone", method="POST", path="/y/", key="k")

    with pytest.raises(InvalidRequest):
        refused_step()
    step()
    with pytest.raises(Conflict, match=r"^Done already\.$"):
        step()

    kept = IdempotencyRecord.objects.values_list("caller", "key")
    assert sorted(kept) == [("someone", "k"), (f"user:{clerk.pk}", f"clerk-form:{token}")]


def test_packing_when_nothing_is_left_to_pack_says_so(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille))
    services.pick(shipment=shipment)
    data = pack_form_data(clerk_client, shipment, RAIN_JACKET_M=1)
    services.pack(shipment=shipment)  # another till packed it all

    response = clerk_client.post(shipment_url(shipment, "pack"), data)

    assert response.status_code == 400
    assert b"Nothing picked is waiting to be packed: pick the lines first." in response.content
    assert Parcel.objects.count() == 1
    assert not IdempotencyRecord.objects.exists()


def test_packing_more_than_was_picked_or_nothing_is_refused_at_the_form(
    clerk_client, chain, camille
):
    shipment = shipment_of(delivery_order(camille, {"RAIN-JACKET-M": 2}))
    services.pick(shipment=shipment)

    too_many = clerk_client.post(
        shipment_url(shipment, "pack"), pack_form_data(clerk_client, shipment, RAIN_JACKET_M=3)
    )
    nothing = clerk_client.post(
        shipment_url(shipment, "pack"), pack_form_data(clerk_client, shipment, RAIN_JACKET_M=0)
    )

    assert (too_many.status_code, nothing.status_code) == (400, 400)
    assert b"less than or equal to 2" in too_many.content
    assert b"Say how many units go into this parcel." in nothing.content
    assert not Parcel.objects.exists()


# --- Ship ---------------------------------------------------------------------------------


def packed_parcel(order: Order) -> Parcel:
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    return services.pack(shipment=shipment)


def test_a_packed_parcel_ships_with_its_tracking_and_the_stock_leaves_once(
    clerk_client, clerk, chain, camille
):
    order = delivery_order(camille, {"RAIN-JACKET-M": 2})
    parcel = packed_parcel(order)
    url = "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123"

    response = clerk_client.post(
        shipment_url(parcel.shipment, f"parcels/{parcel.public_id}/ship"),
        ship_form_data(parcel, url=url),
        follow=True,
    )

    parcel.refresh_from_db()
    assert (parcel.status, parcel.carrier, parcel.tracking_number, parcel.tracking_url) == (
        "shipped",
        "Colissimo",
        "6A123",
        url,
    )
    assert parcel.actor == clerk
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert level("RAIN-JACKET-M", "PAR-RIV") == (3, 0)
    assert drifts_between(0, 10**9) == []
    page = response.content.decode()
    assert "shipped with Colissimo (6A123): the customer has the tracking link." in page
    assert f'<a href="{url}" target="_blank" rel="noopener noreferrer">6A123</a>' in page
    told = Notification.objects.get(topic="orders.parcel_shipped")
    assert url in told.body


def test_a_second_ship_of_the_same_parcel_says_already_shipped(clerk_client, chain, camille):
    parcel = packed_parcel(delivery_order(camille))
    url = shipment_url(parcel.shipment, f"parcels/{parcel.public_id}/ship")

    clerk_client.post(url, ship_form_data(parcel))
    again = clerk_client.post(url, ship_form_data(parcel, number="6A999"))

    assert again.status_code == 409
    assert b"already shipped with Colissimo (6A123): it is not shipped twice." in again.content
    parcel.refresh_from_db()
    assert parcel.tracking_number == "6A123"
    assert level("RAIN-JACKET-M", "PAR-RIV") == (4, 0)
    assert drifts_between(0, 10**9) == []


def test_each_parcel_ships_on_its_own_and_the_order_is_partly_shipped_between(
    clerk_client, chain, camille
):
    order = delivery_order(camille, {"RAIN-JACKET-M": 1, "WOOL-BEANIE": 1})
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    first = services.pack(shipment=shipment, contents={line_of(shipment, "RAIN-JACKET-M").pk: 1})
    second = services.pack(shipment=shipment)

    clerk_client.post(
        shipment_url(shipment, f"parcels/{first.public_id}/ship"), ship_form_data(first)
    )
    between = Order.objects.get(pk=order.pk).status
    clerk_client.post(
        shipment_url(shipment, f"parcels/{second.public_id}/ship"),
        ship_form_data(second, number="6A124"),
    )

    assert between == "partly_shipped"
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert level("WOOL-BEANIE", "PAR-RIV") == (9, 0)


@pytest.mark.parametrize(
    ("carrier", "number", "url", "error"),
    [
        ("", "6A123", "", b"This field is required."),
        ("Colissimo", "", "", b"This field is required."),
        ("Colissimo", "6A123", "javascript:alert(1)", b"Enter a valid URL."),
    ],
)
def test_tracking_is_checked_at_the_form_and_nothing_ships(
    clerk_client, chain, camille, carrier, number, url, error
):
    parcel = packed_parcel(delivery_order(camille))

    response = clerk_client.post(
        shipment_url(parcel.shipment, f"parcels/{parcel.public_id}/ship"),
        ship_form_data(parcel, carrier=carrier, number=number, url=url),
    )

    assert response.status_code == 400
    assert error in response.content
    assert Parcel.objects.get().status == "packed"
    assert level("RAIN-JACKET-M", "PAR-RIV") == (5, 1)


def test_a_tracking_number_already_on_another_parcel_is_refused_on_the_page(
    clerk_client, chain, camille
):
    services.ship(
        shipment=shipment_of(delivery_order(customer())),
        tracking=services.Tracking("Colissimo", "6A123"),
    )
    parcel = packed_parcel(delivery_order(camille))

    response = clerk_client.post(
        shipment_url(parcel.shipment, f"parcels/{parcel.public_id}/ship"), ship_form_data(parcel)
    )

    assert response.status_code == 409
    assert b"Colissimo 6A123 is already on another parcel" in response.content
    assert Parcel.objects.get(pk=parcel.pk).status == "packed"


def test_an_unknown_parcel_is_not_found(clerk_client, chain, camille):
    parcel = packed_parcel(delivery_order(camille))
    other = packed_parcel(delivery_order(customer()))

    response = clerk_client.post(
        shipment_url(parcel.shipment, f"parcels/{other.public_id}/ship"), ship_form_data(other)
    )

    assert response.status_code == 404
    assert Parcel.objects.get(pk=other.pk).status == "packed"


# --- Report short -------------------------------------------------------------------------


def test_a_line_reported_short_moves_to_the_location_that_has_it(clerk_client, chain, camille):
    order = delivery_order(camille, {"RAIN-JACKET-M": 1, "WOOL-BEANIE": 1})
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")

    response = clerk_client.post(
        shipment_url(shipment, "short"),
        {"line": jacket.pk, "note": "Only a torn one on the rail"},
        follow=True,
    )

    assert b"1 x RAIN-JACKET-M reported short: it now ships from Orl\xc3\xa9ans DC (ORL-DC)." in (
        response.content
    )
    jacket.refresh_from_db()
    assert (jacket.status, jacket.note) == ("moved", "Only a torn one on the rail")
    assert shipment_of(order, "ORL-DC").lines.get().order_line == jacket.order_line
    assert level("RAIN-JACKET-M", "PAR-RIV") == (5, 0)
    assert level("RAIN-JACKET-M", "ORL-DC") == (20, 1)
    assert drifts_between(0, 10**9) == []
    assert b"Only a torn one on the rail" in response.content


def test_a_line_no_location_can_ship_is_cancelled_and_refunded(clerk_client, chain, camille):
    order = delivery_order(camille, {"RAIN-JACKET-M": 1, "WOOL-BEANIE": 2})
    shipment = shipment_of(order)

    response = clerk_client.post(
        shipment_url(shipment, "short"),
        {"line": line_of(shipment, "WOOL-BEANIE").pk, "note": ""},
        follow=True,
    )

    assert (
        b"2 x WOOL-BEANIE reported short: no other location can ship it, so it is cancelled "
        b"and 38.00 EUR refunded to the customer, who is told." in response.content
    )
    order_line = order.lines.get(sku__code="WOOL-BEANIE")
    assert (order_line.cancelled_quantity, order_line.cancelled_refund) == (2, Decimal("38.00"))
    assert level("WOOL-BEANIE", "PAR-RIV") == (10, 0)
    assert Order.objects.get(pk=order.pk).status == "allocated"


def test_a_line_in_a_parcel_cannot_be_reported_short_and_the_page_says_why(
    clerk_client, chain, camille
):
    parcel = packed_parcel(delivery_order(camille))

    response = clerk_client.post(
        shipment_url(parcel.shipment, "short"), {"line": parcel.shipment.lines.get().pk}
    )

    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert b"Part of this line is already in a parcel" in response.content
    assert parcel.shipment.lines.get().status == "picked"


def test_reporting_the_same_line_short_twice_moves_it_once(clerk_client, chain, camille):
    order = delivery_order(camille)
    shipment = shipment_of(order)
    data = {"line": shipment.lines.get().pk}

    clerk_client.post(shipment_url(shipment, "short"), data)
    again = clerk_client.post(shipment_url(shipment, "short"), data)

    assert again.status_code == 400
    assert b"This shipment from PAR-RIV is cancelled: nothing of it is left to ship." in (
        again.content
    )
    assert ShipmentLine.objects.filter(order_line__order=order).count() == 2
    assert level("RAIN-JACKET-M", "ORL-DC") == (20, 1)


# --- Only the shipment's own store works it -----------------------------------------------


def test_another_store_sees_the_shipment_read_only(bastille_client, chain, camille):
    shipment = shipment_of(delivery_order(camille))

    response = bastille_client.get(shipment_url(shipment))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Leaves from Paris Rivoli (PAR-RIV): only its own staff" in page
    assert "RAIN-JACKET-M" in page
    assert 'name="lines"' not in page
    assert "Mark ticked lines picked" not in page
    assert 'id="short-form"' not in page


@pytest.mark.parametrize("action", ["pick", "short", "pack", "ship"])
def test_another_store_cannot_pick_pack_ship_or_report_short(
    bastille_client, chain, camille, action
):
    order = delivery_order(camille)
    shipment = shipment_of(order)
    if action == "ship":
        parcel = packed_parcel(order)
        url, data = (
            shipment_url(shipment, f"parcels/{parcel.public_id}/ship"),
            ship_form_data(parcel),
        )
    else:
        if action == "pack":
            services.pick(shipment=shipment)
        line = shipment.lines.get().pk
        url = shipment_url(shipment, action)
        data = {"lines": [line], "line": line, "token": "0b7c1f0e-7f5e-4d4c-9c1e-3f1e1f0e7f5e"}
    before = list(ShipmentLine.objects.values_list("pk", "status"))

    response = bastille_client.post(url, data)

    assert response.status_code == 403
    assert b"only its own staff pick, pack and ship it." in response.content
    assert list(ShipmentLine.objects.values_list("pk", "status")) == before
    assert Parcel.objects.filter(status="shipped").count() == 0


def test_a_shipment_is_found_only_under_its_own_order(clerk_client, chain, camille):
    shipment = shipment_of(delivery_order(camille))
    other = delivery_order(customer())

    response = clerk_client.get(f"/clerk/orders/{other.number}/shipments/{shipment.public_id}/")

    assert response.status_code == 404


def test_changes_are_posted_with_the_csrf_token(chain, clerk, camille):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    shipment = shipment_of(delivery_order(camille))

    read = client.get(shipment_url(shipment, "pick"))
    forged = client.post(shipment_url(shipment, "pick"), {"lines": [shipment.lines.get().pk]})

    assert (read.status_code, forged.status_code) == (405, 403)
    assert shipment.lines.get().status == "open"


@pytest.mark.parametrize("lines", [1, 3])
def test_the_shipment_page_takes_the_same_few_queries_however_many_lines(
    clerk_client, chain, camille, django_assert_max_num_queries, lines
):
    skus = {}
    for n in range(lines):
        stock(SkuFactory(code=f"SOCK-{n}"), chain["rivoli"], 5)
        skus[f"SOCK-{n}"] = 1
    order = delivery_order(camille, skus)
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    for line in shipment.lines.all():
        services.pack(shipment=shipment, contents={line.pk: 1})

    # session, user, assignment with its counts, shipment with order and customer, lines with
    # SKUs and products, parcels, parcel lines
    with django_assert_max_num_queries(7):
        response = clerk_client.get(shipment_url(shipment))

    assert len(response.context["waiting"]) == lines


# --- The order page -----------------------------------------------------------------------


def test_the_order_page_shows_shipments_and_the_parcels_that_left_with_their_links(
    clerk_client, chain, camille
):
    order = delivery_order(camille, {"RAIN-JACKET-M": 6, "WOOL-BEANIE": 1})  # split
    services.ship(
        shipment=shipment_of(order, "ORL-DC"),
        tracking=services.Tracking("Chronopost", "XY1", "https://chrono.example/XY1"),
    )

    response = clerk_client.get(f"/clerk/orders/{order.number}/")

    page = response.content.decode()
    assert "Partly shipped" in page
    assert "From Orléans DC" in page
    assert "From Paris Rivoli" in page
    assert (
        '<a href="https://chrono.example/XY1" target="_blank" rel="noopener noreferrer">XY1</a>'
        in page
    )
    pick_list = f"/clerk/orders/{order.number}/shipments/{shipment_of(order).public_id}/"
    assert f'href="{pick_list}">Open the pick list' in page
    assert "Ship to</dt><dd>Camille Martin, 3 rue du Louvre, 75001 Paris FR" in page


def test_a_store_with_the_items_ships_from_itself_a_shipment_allocated_elsewhere(
    bastille_client, chain, camille
):
    order = delivery_order(camille, {"RAIN-JACKET-M": 2})
    old = shipment_of(order)

    page = bastille_client.get(f"/clerk/orders/{order.number}/").content.decode()
    response = bastille_client.post(
        shipment_url(old, "take-over"), {"lines": [old.lines.get().pk]}, follow=True
    )

    assert "Ship from this store" in page
    assert "Paris Bastille has 2 \u00d7 <code>RAIN-JACKET-M</code> available" in page
    new = shipment_of(order, "PAR-BAS")
    assert response.redirect_chain[-1][0] == shipment_url(new)
    assert b"RAIN-JACKET-M: now shipped from Paris Bastille instead of Paris Rivoli." in (
        response.content
    )
    assert b"Mark ticked lines picked" in response.content
    assert Shipment.objects.get(pk=old.pk).status == "cancelled"
    assert level("RAIN-JACKET-M", "PAR-RIV") == (5, 0)
    assert level("RAIN-JACKET-M", "PAR-BAS") == (4, 2)
    assert drifts_between(0, 10**9) == []


def test_ship_from_this_store_is_refused_with_a_clear_message_when_the_store_is_short(
    bastille_client, chain, camille
):
    order = delivery_order(camille, {"RAIN-JACKET-M": 5})
    old = shipment_of(order)

    page = bastille_client.get(f"/clerk/orders/{order.number}/").content.decode()
    response = bastille_client.post(shipment_url(old, "take-over"), {"lines": [old.lines.get().pk]})

    assert "Ship from this store" not in page
    assert "Paris Bastille has not enough of these items to ship them instead." in page
    assert response.status_code == 409
    assert b'role="alert"' in response.content
    assert b"Not enough stock for RAIN-JACKET-M at PAR-BAS." in response.content
    assert old.lines.get().status == "open"
    assert level("RAIN-JACKET-M", "PAR-RIV") == (5, 5)
    assert level("RAIN-JACKET-M", "PAR-BAS") == (4, 0)


def test_ship_from_this_store_sent_twice_moves_the_lines_once(bastille_client, chain, camille):
    order = delivery_order(camille)
    old = shipment_of(order)
    data = {"lines": [old.lines.get().pk]}

    bastille_client.post(shipment_url(old, "take-over"), data)
    again = bastille_client.post(shipment_url(old, "take-over"), data)

    assert again.status_code == 400
    assert b"This shipment from PAR-RIV is cancelled: nothing of it is left to ship." in (
        again.content
    )
    assert level("RAIN-JACKET-M", "PAR-BAS") == (4, 1)
    assert Shipment.objects.filter(order=order, location__code="PAR-BAS").count() == 1


def test_the_own_stores_shipment_offers_no_take_over(clerk_client, chain, camille):
    order = delivery_order(camille)

    page = clerk_client.get(f"/clerk/orders/{order.number}/").content.decode()

    assert "Ship from this store" not in page
    assert "not enough of these items" not in page


@pytest.mark.parametrize("lines", [1, 3])
def test_the_delivery_order_page_takes_the_same_few_queries_however_many_lines(
    bastille_client, chain, camille, django_assert_max_num_queries, lines
):
    skus = {}
    for n in range(lines):
        stock(SkuFactory(code=f"SOCK-{n}"), chain["rivoli"], 5)
        skus[f"SOCK-{n}"] = 1
    order = delivery_order(camille, skus)
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    services.pack(shipment=shipment, contents={shipment.lines.first().pk: 1})

    # session, user, assignment, order, lines, SKUs, products, events, shipments, their lines,
    # parcels, parcel lines, returns (+ lines), the store's stock of what it could take over
    with django_assert_max_num_queries(15):
        response = bastille_client.get(f"/clerk/orders/{order.number}/")

    assert len(response.context["shipments"]) == 1
