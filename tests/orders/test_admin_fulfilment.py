"""Delivery fulfilment in the admin: the shipment list per location with its filters, the
overview per location, read-only shipments, parcels and carrier events, the actions that call
the shipping services, and who may run them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import messages
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Order, Parcel, Shipment, ShipmentLine
from tests.inventory.factories import LocationFactory, UserFactory, stock
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db

ADDRESS = services.Address("C. Martin", "1 rue de Rivoli", "Paris", "75001", "FR")


def url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:orders_{model}_{view}", args=args)


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def action_names(response) -> list[str]:
    form = response.context["action_form"]
    return [name for name, _ in form.fields["action"].choices] if form else []


def notices(response) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def lyon(shop):
    """A store that ships, with the beanies only it can send (no jacket, unless a test adds)."""
    store = LocationFactory(code="LYS-PDI", name="Lyon Part-Dieu", ship_from_enabled=True)
    stock(shop.beanie, store, 10)
    return store


def delivery(buyer, *items: tuple[str, int], key: str) -> Order:
    cart = services.cart_of(customer=buyer)
    for sku, quantity in items or [("RAIN-JACKET-M", 1)]:
        services.set_line(cart=cart, sku_code=sku, quantity=quantity, channel="web")
    return services.checkout(
        cart=cart, fulfilment="delivery", channel="web", idempotency_key=key, address=ADDRESS
    ).order


def shipment_of(order: Order) -> Shipment:
    return order.shipments.exclude(status="cancelled").get()


def ship(order: Order, number: str, carrier: str = "Colissimo") -> Parcel:
    return services.ship(
        shipment=shipment_of(order),
        tracking=services.Tracking(carrier, number, f"https://track.example/{number}"),
    )


def numbers(response) -> set[str]:
    assert response.status_code == 200
    return {shipment.order.number for shipment in listed(response)}


def run_action(client, model: str, action: str, *objects):
    return client.post(
        url(model),
        {"action": action, "_selected_action": [obj.pk for obj in objects]},
        follow=True,
    )


# --- The shipment list -----------------------------------------------------------------------


def shipments_in_every_state(count: int) -> None:
    """``count`` delivery orders, every other one shipped in a parcel with tracking."""
    for n in range(count):
        order = delivery(customer(), key=f"k{n}")
        if n % 2:
            ship(order, f"6A{n:04d}", carrier="Colissimo" if n % 4 == 1 else "Chronopost")


@pytest.mark.parametrize("count", [3, 30])
def test_the_shipment_list_runs_the_same_few_queries_for_3_or_30_shipments(
    admin_client, shop, django_assert_max_num_queries, count
):
    stock(shop.jacket, shop.warehouse, 80)
    shipments_in_every_state(count)

    with django_assert_max_num_queries(9):
        response = admin_client.get(url("shipment"))

    assert response.status_code == 200
    assert len(listed(response)) == count


def test_the_shipment_list_shows_order_location_status_lines_parcels_and_tracking_link(
    admin_client, shop, camille
):
    order = delivery(camille, key="d")
    ship(order, "6A0001")

    page = admin_client.get(url("shipment")).content.decode()

    assert order.number in page
    assert "Orléans DC" in page
    assert "1 x RAIN-JACKET-M (shipped)" in page
    assert '<a href="https://track.example/6A0001"' in page
    assert "Colissimo 6A0001" in page


def test_the_shipment_list_counts_each_filter_choice_when_asked(admin_client, shop, camille):
    waiting = delivery(camille, key="waiting")
    ship(delivery(camille, key="sent"), "6A0001")

    response = admin_client.get(url("shipment"), {"_facets": "True", "late": "no"})

    assert response.status_code == 200
    assert waiting.number in response.content.decode()
    assert "Today (1)" in response.content.decode()  # a parcel shipped today


def test_the_shipment_list_filters_by_location_and_status(admin_client, shop, camille, lyon):
    jacket = delivery(camille, key="j")
    beanie = delivery(camille, ("WOOL-BEANIE", 1), key="b")
    services.pick(shipment=shipment_of(beanie))

    assert numbers(admin_client.get(url("shipment"), {"location": "LYS-PDI"})) == {beanie.number}
    assert numbers(admin_client.get(url("shipment"), {"location": "ORL-DC"})) == {jacket.number}
    assert numbers(admin_client.get(url("shipment"), {"status__exact": "allocated"})) == {
        jacket.number
    }
    assert numbers(admin_client.get(url("shipment"), {"status__exact": "picked"})) == {
        beanie.number
    }


def test_a_shipment_open_longer_than_the_late_hours_is_late_until_it_ships(
    admin_client, shop, camille, settings, time_machine
):
    settings.FULFILMENT_LATE_HOURS = 24
    time_machine.move_to(timezone.now())
    old = delivery(camille, key="old")
    time_machine.shift(timedelta(hours=20))
    recent = delivery(camille, key="recent")
    old_and_sent = delivery(camille, key="sent")
    ship(old_and_sent, "6A0001")
    time_machine.shift(timedelta(hours=5))  # old: 25 hours; recent: 5 hours

    late = admin_client.get(url("shipment"), {"late": "yes"})
    on_time = admin_client.get(url("shipment"), {"late": "no"})

    assert numbers(late) == {old.number}
    assert numbers(on_time) == {recent.number, old_and_sent.number}
    settings.FULFILMENT_LATE_HOURS = 26
    assert numbers(admin_client.get(url("shipment"), {"late": "yes"})) == set()


def test_a_shipment_with_a_line_reported_short_is_found_by_the_short_filter(
    admin_client, shop, camille, lyon, time_machine
):
    stock(shop.jacket, lyon, 5)
    time_machine.move_to(timezone.now())
    short = delivery(camille, key="short")
    fine = delivery(camille, key="fine")
    warehouse_shipment = shipment_of(short)
    services.report_short(shipment=warehouse_shipment, line_id=warehouse_shipment.lines.get().pk)

    ever = admin_client.get(url("shipment"), {"short": "yes"})
    today = admin_client.get(url("shipment"), {"short": "today"})
    never = admin_client.get(url("shipment"), {"short": "no"})
    time_machine.shift(timedelta(days=1))
    tomorrow = admin_client.get(url("shipment"), {"short": "today"})

    assert [s.location.code for s in listed(ever)] == ["ORL-DC"]  # not Lyon, which took it
    assert numbers(today) == {short.number}
    assert numbers(never) == {short.number, fine.number}  # the line at Lyon, and the other one
    assert listed(tomorrow) == []


def test_shipments_filter_by_the_carrier_of_their_parcels_whatever_its_case(
    admin_client, shop, camille
):
    colissimo = [delivery(camille, key=f"c{n}") for n in range(3)]
    chronopost = delivery(camille, key="p")
    ship(colissimo[0], "6A0001", carrier="Colissimo")
    ship(colissimo[1], "6A0002", carrier="Colissimo")
    ship(colissimo[2], "6A0003", carrier="COLISSIMO")  # typed in capitals by one store
    ship(chronopost, "XY0001", carrier="Chronopost")

    response = admin_client.get(url("shipment"), {"carrier": "colissimo"})

    assert numbers(response) == {order.number for order in colissimo}
    changelist = response.context["cl"]
    carriers = [choice["display"] for choice in changelist.filter_specs[-1].choices(changelist)]
    assert carriers == ["All", "Chronopost", "Colissimo"]  # the spelling most parcels use


def test_shipments_with_a_parcel_shipped_today_at_their_location(
    admin_client, shop, camille, time_machine
):
    time_machine.move_to(timezone.now())
    yesterday = delivery(camille, key="y")
    ship(yesterday, "6A0001")
    time_machine.shift(timedelta(days=1))
    today = delivery(camille, key="t")
    ship(today, "6A0002")
    delivery(camille, key="open")

    assert numbers(admin_client.get(url("shipment"), {"shipped": "today"})) == {today.number}


def test_today_is_each_locations_own_day_in_its_time_zone(
    admin_client, shop, camille, time_machine
):
    auckland = LocationFactory(
        code="AKL", name="Auckland", time_zone="Pacific/Auckland", ship_from_enabled=True
    )
    stock(shop.beanie, auckland, 5)
    time_machine.move_to(datetime(2026, 3, 10, 10, 30, tzinfo=UTC))  # 23:30 in Auckland
    from_paris = delivery(camille, key="paris")
    ship(from_paris, "6A0001")
    from_auckland = delivery(camille, ("WOOL-BEANIE", 1), key="akl")
    ship(from_auckland, "NZ0001")
    time_machine.move_to(datetime(2026, 3, 10, 11, 30, tzinfo=UTC))  # a new day in Auckland

    response = admin_client.get(url("shipment"), {"shipped": "today"})
    overview = admin_client.get(url("shipment", "overview"))

    assert numbers(response) == {from_paris.number}
    shipped_today = {row["code"]: row["cells"][-1]["count"] for row in overview.context["rows"]}
    assert shipped_today == {"ORL-DC": 1}


def test_shipments_are_found_by_order_number_tracking_number_or_sku_once_each(
    admin_client, shop, camille, lyon
):
    jacket = delivery(camille, ("RAIN-JACKET-M", 2), key="j")
    beanie = delivery(camille, ("WOOL-BEANIE", 1), key="b")
    services.pick(shipment=shipment_of(jacket))
    first = services.pack(
        shipment=shipment_of(jacket), contents={shipment_of(jacket).lines.get().pk: 1}
    )
    services.ship_parcel(parcel=first, tracking=services.Tracking("Colissimo", "6A0001"))
    ship(jacket, "6A0002")

    def found(term: str) -> list[str]:
        response = admin_client.get(url("shipment"), {"q": term})
        assert response.status_code == 200
        return [shipment.order.number for shipment in listed(response)]

    assert found(beanie.number) == [beanie.number]
    assert found("6a0002") == [jacket.number]
    assert found("rain-jacket-m") == [jacket.number]
    assert found("WOOL-BEANIE") == [beanie.number]
    assert found("nothing-like-it") == []


# --- The overview per location ---------------------------------------------------------------


def a_busy_day(shop, lyon, time_machine):
    """Orléans: one to pick and late, one picked, one packed, one shipped today. Lyon: one to
    pick, one line reported short today (reallocated to Orléans)."""
    time_machine.move_to(timezone.now())
    late = delivery(customer(), key="late")
    time_machine.shift(timedelta(hours=30))
    picked = delivery(customer(), key="picked")
    services.pick(shipment=shipment_of(picked))
    packed = delivery(customer(), key="packed")
    services.pick(shipment=shipment_of(packed))
    services.pack(shipment=shipment_of(packed))
    ship(delivery(customer(), key="shipped"), "6A0001")
    delivery(customer(), ("WOOL-BEANIE", 1), key="lyon")
    short = delivery(customer(), ("WOOL-BEANIE", 1), ("RAIN-JACKET-M", 1), key="short")
    at_lyon = short.shipments.get(location=lyon)  # the jacket ships from Orléans
    return {"late": late, "short": short, "at_lyon": at_lyon}


def test_the_overview_counts_each_locations_work_and_links_to_the_filtered_list(
    admin_client, shop, lyon, time_machine
):
    day = a_busy_day(shop, lyon, time_machine)
    beanie_line = day["at_lyon"].lines.get()
    services.report_short(shipment=day["at_lyon"], line_id=beanie_line.pk)  # none elsewhere

    response = admin_client.get(url("shipment", "overview"))

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.context["rows"]}
    orleans, lyon_row = rows["ORL-DC"], rows["LYS-PDI"]
    assert [cell["count"] for cell in orleans["cells"]] == [2, 1, 1, 1, 0, 1]
    assert [cell["count"] for cell in lyon_row["cells"]] == [1, 0, 0, 0, 1, 0]
    late_link = orleans["cells"][3]["url"]
    assert numbers(admin_client.get(late_link)) == {day["late"].number}
    short_link = lyon_row["cells"][4]["url"]
    assert numbers(admin_client.get(short_link)) == {day["short"].number}
    to_pick_link = orleans["cells"][0]["url"]
    assert len(listed(admin_client.get(to_pick_link))) == 2
    page = response.content.decode()
    assert "<svg" in page
    assert "Lyon Part-Dieu" in page


def test_the_overview_puts_the_location_with_most_late_first(
    admin_client, shop, lyon, time_machine
):
    a_busy_day(shop, lyon, time_machine)

    response = admin_client.get(url("shipment", "overview"))

    assert [row["code"] for row in response.context["rows"]] == ["ORL-DC", "LYS-PDI"]
    assert [cell["count"] for cell in response.context["totals"]] == [4, 1, 1, 1, 0, 1]


@pytest.mark.parametrize("locations", [2, 12])
def test_the_overview_runs_the_same_few_queries_whatever_the_number_of_locations(
    admin_client, shop, django_assert_max_num_queries, locations
):
    for n in range(locations):
        store = LocationFactory(code=f"SHIP-{n}", ship_from_enabled=True)
        stock(shop.beanie, store, 1)
        delivery(customer(), ("WOOL-BEANIE", 1), key=f"k{n}")

    with django_assert_max_num_queries(7):
        response = admin_client.get(url("shipment", "overview"))

    assert len(response.context["rows"]) == locations


# --- The change pages are read-only ----------------------------------------------------------


def test_a_shipment_page_shows_its_lines_and_parcels_and_cannot_be_edited(
    admin_client, shop, camille
):
    order = delivery(camille, ("RAIN-JACKET-M", 2), key="d")
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    parcel = services.pack(shipment=shipment, contents={shipment.lines.get().pk: 1})
    services.ship_parcel(
        parcel=parcel, tracking=services.Tracking("Colissimo", "6A0001", "https://t.example/1")
    )

    page = admin_client.get(url("shipment", "change", shipment.pk))
    posted = admin_client.post(url("shipment", "change", shipment.pk), {"status": "delivered"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "RAIN-JACKET-M" in text
    assert '<a href="https://t.example/1"' in text
    assert "Packed" in text  # one unit still waiting
    assert reverse("admin:orders_order_change", args=[order.pk]) in text
    assert posted.status_code == 403
    assert Shipment.objects.get(pk=shipment.pk).status == "picked"
    assert admin_client.get(url("shipment", "add")).status_code == 403


def test_parcels_are_found_by_tracking_number_and_show_their_carrier_events(
    admin_client, shop, camille
):
    order = delivery(camille, key="d")
    parcel = ship(order, "6A0001")
    ship(delivery(camille, key="other"), "6A0002")
    services.record_carrier_event(
        carrier="Colissimo",
        event_id="ev-1",
        tracking_number="6A0001",
        kind="in_transit",
        occurred_at=timezone.now(),
    )

    found = admin_client.get(url("parcel"), {"q": "6A0001"})
    page = admin_client.get(url("parcel", "change", parcel.pk)).content.decode()
    events = admin_client.get(url("carrierevent"), {"q": "6A0001"})

    assert listed(found) == [parcel]
    assert "in_transit" in page
    assert order.number in page
    assert [event.kind for event in listed(events)] == ["in_transit"]
    assert admin_client.get(url("parcel", "add")).status_code == 403
    assert admin_client.get(url("carrierevent", "add")).status_code == 403
    assert admin_client.post(url("parcel", "change", parcel.pk), {}).status_code == 403


# --- Actions ---------------------------------------------------------------------------------


def test_delivering_a_shipments_parcels_delivers_the_order_and_says_so_per_parcel(
    admin_client, admin_user, shop, camille
):
    order = delivery(camille, key="d")
    parcel = ship(order, "6A0001")

    response = run_action(admin_client, "shipment", "deliver_parcels", shipment_of(order))

    parcel.refresh_from_db()
    order.refresh_from_db()
    assert parcel.status == "delivered"
    assert order.status == "delivered"
    assert notices(response) == [
        (
            messages.SUCCESS,
            f"Parcel Colissimo 6A0001 (order {order.number}): delivered; the order is delivered.",
        ),
        (messages.SUCCESS, "1 parcel delivered."),
    ]


def test_a_parcel_not_shipped_yet_is_refused_while_the_others_are_delivered(
    admin_client, shop, camille
):
    waiting = delivery(camille, key="waiting")
    services.pick(shipment=shipment_of(waiting))
    services.pack(shipment=shipment_of(waiting))
    sent = delivery(camille, key="sent")
    ship(sent, "6A0001")
    untouched = delivery(camille, key="untouched")

    response = run_action(
        admin_client,
        "shipment",
        "deliver_parcels",
        shipment_of(waiting),
        shipment_of(sent),
        shipment_of(untouched),
    )

    assert Order.objects.get(pk=waiting.pk).status == "allocated"
    assert Order.objects.get(pk=sent.pk).status == "delivered"
    assert Parcel.objects.get(shipment__order=waiting).status == "packed"
    levels = [level for level, _ in notices(response)]
    texts = [text for _, text in notices(response)]
    assert levels == [messages.WARNING, messages.ERROR, messages.SUCCESS, messages.SUCCESS]
    assert texts[0] == f"Order {untouched.number} from ORL-DC: no parcel of it has left yet."
    assert texts[1].endswith(f"(order {waiting.number}): This parcel has not shipped yet.")
    assert texts[2].startswith(f"Parcel Colissimo 6A0001 (order {sent.number}): delivered")
    assert texts[3] == "1 parcel delivered."


def test_a_parcel_already_delivered_is_reported_and_not_delivered_again(
    admin_client, shop, camille
):
    order = delivery(camille, key="d")
    parcel = ship(order, "6A0001")
    services.mark_parcel_delivered(parcel=parcel)

    response = run_action(admin_client, "shipment", "deliver_parcels", shipment_of(order))

    assert notices(response) == [
        (messages.INFO, f"Order {order.number} from ORL-DC: every parcel is already delivered.")
    ]
    assert Order.objects.get(pk=order.pk).events.filter(to_status="delivered").count() == 1


def test_delivering_whole_orders_from_their_shipments_refuses_one_not_shipped(
    admin_client, admin_user, shop, camille
):
    shipped = delivery(camille, key="s")
    ship(shipped, "6A0001")
    allocated = delivery(camille, key="a")

    response = run_action(
        admin_client, "shipment", "deliver_orders", shipment_of(shipped), shipment_of(allocated)
    )

    assert Order.objects.get(pk=shipped.pk).status == "delivered"
    assert Order.objects.get(pk=allocated.pk).status == "allocated"
    assert Order.objects.get(pk=shipped.pk).events.last().actor == admin_user
    assert notices(response) == [
        (messages.SUCCESS, f"Order {shipped.number}: delivered."),
        (
            messages.ERROR,
            f"Order {allocated.number}: Order {allocated.number} is allocated: only a shipped "
            "order can be delivered.",
        ),
        (messages.SUCCESS, "1 order delivered."),
    ]


def test_the_order_admin_marks_a_shipped_order_delivered(admin_client, shop, camille):
    order = delivery(camille, key="d")
    ship(order, "6A0001")

    response = run_action(admin_client, "order", "mark_delivered", order)

    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert (messages.SUCCESS, "1 order delivered.") in notices(response)


def test_the_parcel_admin_delivers_one_parcel_of_several(admin_client, shop, camille):
    order = delivery(camille, ("RAIN-JACKET-M", 2), key="d")
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    line = shipment.lines.get().pk
    first = services.pack(shipment=shipment, contents={line: 1})
    services.ship_parcel(parcel=first, tracking=services.Tracking("Colissimo", "6A0001"))
    second = services.pack(shipment=shipment, contents={line: 1})
    services.ship_parcel(parcel=second, tracking=services.Tracking("Colissimo", "6A0002"))

    response = run_action(admin_client, "parcel", "deliver", first)

    statuses = dict(Parcel.objects.values_list("tracking_number", "status"))
    assert statuses == {"6A0001": "delivered", "6A0002": "shipped"}
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert notices(response)[0] == (
        messages.SUCCESS,
        f"Parcel Colissimo 6A0001 (order {order.number}): delivered; the order is shipped.",
    )


# --- Reporting a line short ------------------------------------------------------------------


def test_a_line_reported_short_moves_to_a_location_that_has_it(
    admin_client, admin_user, shop, camille, lyon
):
    stock(shop.jacket, lyon, 5)
    order = delivery(camille, key="d")
    shipment = shipment_of(order)
    line = shipment.lines.get()

    form = admin_client.get(url("shipment", "report_short", shipment.pk))
    response = admin_client.post(
        url("shipment", "report_short", shipment.pk),
        {"lines": [line.pk], "note": "Shelf empty"},
        follow=True,
    )

    assert form.status_code == 200
    assert "RAIN-JACKET-M" in form.content.decode()
    line.refresh_from_db()
    assert (line.status, line.note) == ("moved", "Shelf empty")
    assert line.short_reported_at is not None
    assert order.shipments.get(location=lyon).lines.get().status == "open"
    assert notices(response) == [
        (
            messages.SUCCESS,
            "RAIN-JACKET-M: reported short at ORL-DC; moved to Lyon Part-Dieu (LYS-PDI).",
        )
    ]
    assert response.redirect_chain[-1][0] == url("shipment", "change", shipment.pk)


def test_a_line_no_location_can_ship_is_cancelled_and_refunded(admin_client, shop, camille):
    order = delivery(camille, key="d")
    shipment = shipment_of(order)
    line = shipment.lines.get()

    response = admin_client.post(
        url("shipment", "report_short", shipment.pk), {"lines": [line.pk]}, follow=True
    )

    assert ShipmentLine.objects.get(pk=line.pk).status == "cancelled"
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert notices(response) == [
        (
            messages.WARNING,
            "RAIN-JACKET-M: reported short at ORL-DC; no location can ship it: cancelled and "
            "refunded to the customer.",
        )
    ]


def test_reporting_short_without_choosing_a_line_changes_nothing(admin_client, shop, camille):
    order = delivery(camille, key="d")
    shipment = shipment_of(order)

    response = admin_client.post(url("shipment", "report_short", shipment.pk), {"note": "x"})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert shipment.lines.get().status == "open"


def test_a_packed_line_cannot_be_reported_short(admin_client, shop, camille):
    order = delivery(camille, key="d")
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    services.pack(shipment=shipment)
    line = shipment.lines.get()

    page = admin_client.get(url("shipment", "report_short", shipment.pk))
    response = admin_client.post(url("shipment", "report_short", shipment.pk), {"lines": [line.pk]})

    assert "Nothing of this shipment can be reported short" in page.content.decode()
    assert response.status_code == 200
    assert ShipmentLine.objects.get(pk=line.pk).status == "picked"


def test_the_report_short_action_opens_the_form_for_one_shipment(admin_client, shop, camille):
    first = shipment_of(delivery(camille, key="a"))
    second = shipment_of(delivery(camille, key="b"))

    one = admin_client.post(
        url("shipment"), {"action": "report_short", "_selected_action": [first.pk]}
    )
    two = run_action(admin_client, "shipment", "report_short", first, second)

    assert one.status_code == 302
    assert one.url == url("shipment", "report_short", first.pk)
    assert notices(two) == [
        (messages.ERROR, "Select one shipment: its lines are reported short on its own page.")
    ]


# --- Permissions -----------------------------------------------------------------------------


@pytest.fixture
def viewer(client):
    """A manager who follows fulfilment: may view orders, shipments, parcels and events."""
    user = UserFactory(
        is_staff=True,
        permissions=[
            "orders.view_order",
            "orders.view_shipment",
            "orders.view_parcel",
            "orders.view_carrierevent",
        ],
    )
    client.force_login(user)
    return user


def test_a_manager_with_view_permission_sees_fulfilment_but_gets_no_actions(
    client, viewer, shop, camille
):
    order = delivery(camille, key="d")
    ship(order, "6A0001")

    shipments = client.get(url("shipment"))
    parcels = client.get(url("parcel"))
    overview = client.get(url("shipment", "overview"))
    page = client.get(url("shipment", "change", shipment_of(order).pk))

    assert (shipments.status_code, parcels.status_code, overview.status_code) == (200, 200, 200)
    assert page.status_code == 200
    assert "Report a line short" not in page.content.decode()
    assert action_names(shipments) == []
    assert action_names(parcels) == []


def test_actions_posted_without_permission_change_nothing(client, viewer, shop, camille):
    order = delivery(camille, key="d")
    parcel = ship(order, "6A0001")
    shipment = shipment_of(order)

    run_action(client, "shipment", "deliver_parcels", shipment)
    run_action(client, "shipment", "deliver_orders", shipment)
    run_action(client, "parcel", "deliver", parcel)
    short = client.post(url("shipment", "report_short", shipment.pk), {"lines": [1]})

    assert Parcel.objects.get(pk=parcel.pk).status == "shipped"
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert short.status_code == 403


def test_changing_shipments_runs_parcel_actions_and_delivering_orders_needs_change_order(
    client, viewer, shop, camille
):
    viewer.user_permissions.add(
        Permission.objects.get(content_type__app_label="orders", codename="change_shipment")
    )
    order = delivery(camille, key="d")
    ship(order, "6A0001")

    response = client.get(url("shipment"))

    assert set(action_names(response)) == {"", "deliver_parcels", "report_short"}
    assert set(action_names(client.get(url("parcel")))) == {"", "deliver"}
    assert (
        "Report a line short"
        in client.get(
            url("shipment", "change", shipment_of(delivery(camille, key="e")).pk)
        ).content.decode()
    )


def test_staff_without_view_permission_cannot_open_the_overview(client, shop):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(url("shipment", "overview")).status_code == 403
    assert client.get(url("shipment")).status_code == 403


# --- Shipments on the order page -------------------------------------------------------------


def an_order_in_parcels(shop, lyon, parcels: int) -> Order:
    """A jacket order from Orléans and a beanie from Lyon; the jackets in ``parcels`` parcels."""
    order = delivery(customer(), ("RAIN-JACKET-M", parcels), ("WOOL-BEANIE", 1), key=f"p{parcels}")
    shipment = order.shipments.get(location=shop.warehouse)
    services.pick(shipment=shipment)
    line = shipment.lines.get().pk
    for n in range(parcels):
        parcel = services.pack(shipment=shipment, contents={line: 1})
        services.ship_parcel(
            parcel=parcel,
            tracking=services.Tracking("Colissimo", f"6A{parcels}{n}", f"https://t.example/{n}"),
        )
    return order


@pytest.mark.parametrize("parcels", [1, 4])
def test_the_order_page_shows_each_shipment_with_lines_and_tracking_links_in_few_queries(
    admin_client, shop, lyon, django_assert_max_num_queries, parcels
):
    order = an_order_in_parcels(shop, lyon, parcels)

    with django_assert_max_num_queries(14):
        response = admin_client.get(url("order", "change", order.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert f"{parcels} x RAIN-JACKET-M (shipped)" in page
    assert "1 x WOOL-BEANIE (to pick)" in page
    assert '<a href="https://t.example/0"' in page
    assert "Lyon Part-Dieu" in page
    shipment = order.shipments.get(location=shop.warehouse)
    assert reverse("admin:orders_shipment_change", args=[shipment.pk]) in page
