import pytest
from django.contrib import messages
from django.contrib.admin.sites import site
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from inventory import services
from inventory.models import (
    CycleCount,
    Reservation,
    StockLevel,
    StockMovement,
    Transfer,
)
from tests.inventory.factories import (
    CategoryFactory,
    LocationFactory,
    LowStockAlertFactory,
    ProductFactory,
    SkuFactory,
    UserFactory,
    stock,
)

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


def url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:inventory_{model}_{view}", args=args)


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def action_names(response) -> list[str]:
    form = response.context["action_form"]
    return [name for name, _ in form.fields["action"].choices] if form else []


def notices(response) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


# --- Every page opens ------------------------------------------------------------------------


@pytest.fixture
def a_bit_of_everything(admin_user):
    warehouse, store = LocationFactory(code="WH"), LocationFactory(code="PAR")
    sku = SkuFactory(product=ProductFactory(category=CategoryFactory()))
    stock(sku, warehouse, 20)
    services.reserve(
        lines=[services.StockLine(sku.pk, warehouse.pk, 2)],
        kind=Reservation.Kind.ORDER,
        reference="order:1",
    )
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 3})
    count = services.record_cycle_count(location=warehouse, counts={sku: 19}, actor=admin_user)
    LowStockAlertFactory(level=StockLevel.objects.get(sku=sku, location=warehouse))
    return {"transfer": transfer, "count": count, "product": sku.product}


@pytest.mark.parametrize(
    "model",
    [
        "location",
        "category",
        "product",
        "sku",
        "stocklevel",
        "stockmovement",
        "reservation",
        "transfer",
        "cyclecount",
        "lowstockalert",
    ],
)
def test_every_inventory_list_opens_for_an_inventory_manager(
    admin_client, a_bit_of_everything, model
):
    response = admin_client.get(url(model))

    assert response.status_code == 200
    assert listed(response)


@pytest.mark.parametrize(("model", "key"), [("transfer", "transfer"), ("cyclecount", "count")])
def test_transfers_and_counts_show_their_lines(admin_client, a_bit_of_everything, model, key):
    obj = a_bit_of_everything[key]

    response = admin_client.get(url(model, "change", obj.pk))

    assert response.status_code == 200
    assert obj.lines.get().sku.code in response.content.decode()


# --- Stock levels ----------------------------------------------------------------------------


def test_the_stock_level_list_shows_on_hand_reserved_safety_available_and_reorder_point(
    admin_client,
):
    sku, store = SkuFactory(), LocationFactory()
    level = stock(sku, store, 10, safety_stock=2)
    StockLevel.objects.filter(pk=level.pk).update(reorder_point=6)
    services.reserve(
        lines=[services.StockLine(sku.pk, store.pk, 3)], kind="order", reference="order:9"
    )

    page = admin_client.get(url("stocklevel")).content.decode()

    for field, value in [("on_hand", 10), ("reserved", 3), ("available", 5)]:
        assert f'<td class="field-{field}">{value}</td>' in page
    assert 'name="form-0-safety_stock" value="2"' in page
    assert 'name="form-0-reorder_point" value="6"' in page


def test_stock_levels_filter_by_location(admin_client):
    sku, paris, lyon = SkuFactory(), LocationFactory(), LocationFactory()
    in_paris = stock(sku, paris, 1)
    stock(sku, lyon, 1)

    response = admin_client.get(url("stocklevel"), {"location__id__exact": paris.pk})

    assert listed(response) == [in_paris]


def test_stock_levels_filter_by_category_takes_in_its_subcategories(admin_client):
    men = CategoryFactory(name="Men")
    jackets = CategoryFactory(name="Jackets", parent=men)
    women = CategoryFactory(name="Women")
    store = LocationFactory()
    levels = {
        category: stock(SkuFactory(product=ProductFactory(category=category)), store, 1)
        for category in (men, jackets, women)
    }

    response = admin_client.get(url("stocklevel"), {"category": men.pk})

    assert set(listed(response)) == {levels[men], levels[jackets]}


def test_the_below_reorder_point_filter_compares_available_stock_in_sql(admin_client):
    store = LocationFactory()

    def level(on_hand, *, reserved=0, safety=0, reorder_point):
        sku = SkuFactory()
        found = stock(sku, store, on_hand, safety_stock=safety)
        if reserved:
            services.reserve(
                lines=[services.StockLine(sku.pk, store.pk, reserved)],
                kind="order",
                reference=f"order:{sku.code}",
            )
        StockLevel.objects.filter(pk=found.pk).update(reorder_point=reorder_point)
        return found

    safety_eats_into_it = level(10, safety=3, reorder_point=8)  # available 7
    reserved_eats_into_it = level(10, reserved=4, reorder_point=7)  # available 6
    exactly_at_it = level(10, reorder_point=10)
    no_reorder_point_set = level(1, safety=3, reorder_point=0)  # available shown as 0
    well_stocked = level(50, reorder_point=5)

    below = listed(admin_client.get(url("stocklevel"), {"below_reorder_point": "yes"}))
    above = listed(admin_client.get(url("stocklevel"), {"below_reorder_point": "no"}))

    assert set(below) == {safety_eats_into_it, reserved_eats_into_it}
    assert set(above) == {exactly_at_it, no_reorder_point_set, well_stocked}


@pytest.mark.parametrize("rows", [3, 30])
def test_the_stock_level_list_runs_the_same_few_queries_whatever_its_length(
    admin_client, django_assert_max_num_queries, rows
):
    locations = LocationFactory.create_batch(3)
    for _ in range(rows // 3):
        sku = SkuFactory(product=ProductFactory(category=CategoryFactory()))
        for location in locations:
            stock(sku, location, 5)

    # Session, user, the location and category filter choices, the count and the page.
    with django_assert_max_num_queries(6):
        response = admin_client.get(url("stocklevel"), {"below_reorder_point": "no"})

    assert len(listed(response)) == rows


def list_edit(level: StockLevel, **values) -> dict:
    return {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(level.pk),
        "form-0-safety_stock": str(values.get("safety_stock", level.safety_stock)),
        "form-0-reorder_point": str(values.get("reorder_point", level.reorder_point)),
        "_save": "Save",
    }


def test_safety_stock_and_reorder_point_are_edited_from_the_list(admin_client):
    level = stock(SkuFactory(), LocationFactory(), 10)

    response = admin_client.post(
        url("stocklevel"), list_edit(level, safety_stock=2, reorder_point=4)
    )

    assert response.status_code == 302
    level.refresh_from_db()
    assert (level.on_hand, level.safety_stock, level.reorder_point) == (10, 2, 4)


def test_a_negative_reorder_point_is_refused_with_a_form_error(admin_client):
    level = stock(SkuFactory(), LocationFactory(), 10)

    response = admin_client.post(url("stocklevel"), list_edit(level, reorder_point=-1))

    assert response.status_code == 200
    assert response.context["cl"].formset.errors[0] == {
        "reorder_point": ["Ensure this value is greater than or equal to 0."]
    }
    level.refresh_from_db()
    assert level.reorder_point == 0


def test_on_hand_and_reserved_cannot_be_changed_from_the_change_form(admin_client):
    level = stock(SkuFactory(), LocationFactory(), 10)

    admin_client.post(
        url("stocklevel", "change", level.pk),
        {"on_hand": "999", "reserved": "5", "safety_stock": "1", "reorder_point": "3"},
    )

    level.refresh_from_db()
    assert (level.on_hand, level.reserved, level.safety_stock, level.reorder_point) == (10, 0, 1, 3)


def test_saving_safety_stock_keeps_a_sale_made_while_the_page_was_open(admin_user):
    sku, store = SkuFactory(), LocationFactory()
    page_copy = stock(sku, store, 10)
    services.sell_in_store(location=store, lines={sku: 4}, reference="till:1")
    page_copy.safety_stock = 2
    request = RequestFactory().post("/")
    request.user = admin_user

    site._registry[StockLevel].save_model(request, page_copy, form=None, change=True)

    level = StockLevel.objects.get(pk=page_copy.pk)
    assert (level.on_hand, level.safety_stock) == (6, 2)


def test_stock_levels_cannot_be_deleted_in_the_admin(admin_client):
    level = stock(SkuFactory(), LocationFactory(), 0)

    response = admin_client.post(url("stocklevel", "delete", level.pk), {"post": "yes"})

    assert response.status_code == 403
    assert StockLevel.objects.filter(pk=level.pk).exists()


# --- The ledger ------------------------------------------------------------------------------


@pytest.fixture
def movement():
    stock(SkuFactory(), LocationFactory(), 5)
    return StockMovement.objects.get()


def test_the_ledger_admin_offers_no_add_button_and_no_delete_action(admin_client, movement):
    response = admin_client.get(url("stockmovement"))

    assert response.context["has_add_permission"] is False
    assert "delete_selected" not in action_names(response)


@pytest.mark.parametrize(
    ("view", "data"),
    [
        ("add", {"kind": "receipt", "quantity": "100"}),
        ("change", {"kind": "receipt", "quantity": "100", "reason": "edited"}),
        ("delete", {"post": "yes"}),
    ],
)
def test_the_ledger_admin_refuses_to_add_change_or_delete_movements(
    admin_client, movement, view, data
):
    args = [] if view == "add" else [movement.pk]

    response = admin_client.post(url("stockmovement", view, *args), data)

    assert response.status_code == 403
    assert list(StockMovement.objects.values_list("pk", "quantity", "reason")) == [
        (movement.pk, 5, "")
    ]


def test_a_bulk_delete_of_ledger_rows_is_refused(admin_client, movement):
    admin_client.post(
        url("stockmovement"), {"action": "delete_selected", "_selected_action": [movement.pk]}
    )

    assert StockMovement.objects.filter(pk=movement.pk).exists()


def test_a_ledger_row_can_still_be_viewed(admin_client, movement):
    response = admin_client.get(url("stockmovement", "change", movement.pk))

    assert response.status_code == 200
    assert movement.level.sku.code in response.content.decode()


@pytest.mark.parametrize("term", ["FIND-ME", "po:7781"])
def test_the_ledger_is_searchable_by_sku_code_and_reference(admin_client, term):
    store = LocationFactory()
    wanted = services.record_movement(
        sku=SkuFactory(code="FIND-ME-1"),
        location=store,
        kind=Kind.RECEIPT,
        quantity=2,
        reference="po:7781",
    )
    services.record_movement(
        sku=SkuFactory(code="OTHER"),
        location=store,
        kind=Kind.RECEIPT,
        quantity=2,
        reference="po:1",
    )

    response = admin_client.get(url("stockmovement"), {"q": term})

    assert listed(response) == [wanted]


def test_the_ledger_filters_by_kind_and_location(admin_client):
    sku, paris, lyon = SkuFactory(), LocationFactory(), LocationFactory()
    stock(sku, paris, 5)
    stock(sku, lyon, 5)
    damaged = services.record_movement(sku=sku, location=paris, kind=Kind.DAMAGE, quantity=-1)
    services.record_movement(sku=sku, location=lyon, kind=Kind.DAMAGE, quantity=-1)

    response = admin_client.get(
        url("stockmovement"), {"kind__exact": "damage", "level__location__id__exact": paris.pk}
    )

    assert listed(response) == [damaged]


def test_reservations_are_read_only_in_the_admin(admin_client):
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)
    (held,) = services.reserve(
        lines=[services.StockLine(sku.pk, store.pk, 1)], kind="order", reference="order:3"
    )

    response = admin_client.post(url("reservation", "change", held.pk), {"quantity": "5"})

    assert response.status_code == 403
    held.refresh_from_db()
    assert held.quantity == 1


# --- Transfers -------------------------------------------------------------------------------


@pytest.fixture
def route():
    sku, warehouse, store = SkuFactory(), LocationFactory(code="WH-1"), LocationFactory()
    stock(sku, warehouse, 10)
    return sku, warehouse, store


def run_action(client, action: str, *transfers: Transfer):
    return client.post(
        url("transfer"), {"action": action, "_selected_action": [t.pk for t in transfers]}
    )


def on_hand(sku, location) -> int:
    level = StockLevel.objects.filter(sku=sku, location=location).first()
    return level.on_hand if level else 0


def test_the_ship_action_ships_a_requested_transfer_and_writes_the_ledger(admin_client, route):
    sku, warehouse, store = route
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})

    response = run_action(admin_client, "ship", transfer)

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.IN_TRANSIT
    assert on_hand(sku, warehouse) == 6
    movement = StockMovement.objects.get(kind=Kind.TRANSFER_OUT)
    assert movement.actor == response.wsgi_request.user
    assert notices(response) == [(messages.SUCCESS, "1 transfer shipped.")]


def test_the_receive_action_puts_the_stock_at_the_destination(admin_client, route):
    sku, warehouse, store = route
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})
    services.ship_transfer(transfer=transfer)

    response = run_action(admin_client, "receive", transfer)

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.RECEIVED
    assert on_hand(sku, store) == 4
    assert notices(response) == [(messages.SUCCESS, "1 transfer received.")]


def test_the_cancel_action_cancels_a_requested_transfer(admin_client, route):
    sku, warehouse, store = route
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})

    run_action(admin_client, "cancel", transfer)

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.CANCELLED
    assert on_hand(sku, warehouse) == 10


def test_a_refused_transition_shows_the_reason_as_an_error_and_changes_nothing(admin_client, route):
    sku, warehouse, store = route
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})

    response = run_action(admin_client, "receive", transfer)

    assert response.status_code == 302
    assert notices(response) == [
        (
            messages.ERROR,
            f"Transfer {str(transfer.public_id)[:8]} (WH-1 → {store.code}): "
            "A requested transfer cannot become received.",
        )
    ]
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.REQUESTED
    assert (on_hand(sku, warehouse), on_hand(sku, store)) == (10, 0)
    assert not StockMovement.objects.exclude(kind=Kind.RECEIPT).exists()


def test_shipping_more_than_the_source_has_shows_the_shortage_and_ships_the_others(
    admin_client, route
):
    sku, warehouse, store = route
    too_big = services.request_transfer(source=warehouse, destination=store, lines={sku: 11})
    fits = services.request_transfer(source=warehouse, destination=store, lines={sku: 3})

    response = run_action(admin_client, "ship", too_big, fits)

    levels_and_texts = notices(response)
    assert levels_and_texts[0][0] == messages.ERROR
    assert "Not enough stock" in levels_and_texts[0][1]
    assert levels_and_texts[1] == (messages.SUCCESS, "1 transfer shipped.")
    too_big.refresh_from_db()
    fits.refresh_from_db()
    assert (too_big.status, fits.status) == (Transfer.Status.REQUESTED, Transfer.Status.IN_TRANSIT)
    assert on_hand(sku, warehouse) == 7


def test_transfers_are_not_created_or_edited_bypassing_the_services(admin_client, route):
    sku, warehouse, store = route
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})

    add = admin_client.get(url("transfer", "add"))
    change = admin_client.post(url("transfer", "change", transfer.pk), {"status": "received"})

    assert (add.status_code, change.status_code) == (403, 403)
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.REQUESTED


def test_staff_without_change_permission_on_transfers_get_no_actions(client, route):
    viewer = UserFactory(is_staff=True, permissions=["inventory.view_transfer"])
    client.force_login(viewer)

    response = client.get(url("transfer"))

    assert not {"ship", "receive", "cancel"} & set(action_names(response))


# --- Catalogue, counts and alerts ------------------------------------------------------------


def test_the_category_list_shows_each_parent(admin_client):
    men = CategoryFactory(name="Men")
    CategoryFactory(name="Jackets", parent=men)

    page = admin_client.get(url("category")).content.decode()

    assert '<td class="field-parent nowrap">Men</td>' in page


def test_products_filter_by_category(admin_client):
    shoes = CategoryFactory()
    boots = ProductFactory(category=shoes)
    ProductFactory(category=CategoryFactory())

    response = admin_client.get(url("product"), {"category": shoes.pk})

    assert listed(response) == [boots]


def test_cycle_counts_cannot_be_added_or_changed_by_hand(admin_client, admin_user):
    store = LocationFactory()
    count = services.record_cycle_count(location=store, counts={SkuFactory(): 1})

    add = admin_client.get(url("cyclecount", "add"))
    delete = admin_client.post(url("cyclecount", "delete", count.pk), {"post": "yes"})

    assert (add.status_code, delete.status_code) == (403, 403)
    assert CycleCount.objects.filter(pk=count.pk).exists()


@pytest.mark.parametrize(("status", "expected"), [("open", "open"), ("resolved", "resolved")])
def test_low_stock_alerts_filter_open_and_resolved(admin_client, status, expected):
    alerts = {
        "open": LowStockAlertFactory(),
        "resolved": LowStockAlertFactory(resolved_at=timezone.now()),
    }

    response = admin_client.get(url("lowstockalert"), {"status": status})

    assert listed(response) == [alerts[expected]]
