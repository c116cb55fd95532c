"""The orders admin: lists and filters, the timeline, actions that call the services, and money
and status that nobody edits by hand."""

from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.urls import reverse

from inventory.models import StockLevel
from orders import services
from orders.models import Order
from orders.services import ReturnedItem
from tests.customers.factories import IdentityFactory
from tests.inventory.factories import stock
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


def url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:orders_{model}_{view}", args=args)


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def notices(response) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


def pickup_order(customer, *, sku="WOOL-BEANIE", store="PAR-RIV", channel="ios", key="k"):
    cart = services.cart_of(customer=customer)
    services.set_line(cart=cart, sku_code=sku, quantity=1, channel=channel, device_id="phone-1")
    return services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel=channel,
        idempotency_key=key,
        pickup_store_code=store,
    ).order


def delivery_order(customer, key="d"):
    cart = services.cart_of(customer=customer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="web")
    return services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key=key,
        address=services.Address("C. Martin", "1 rue de Rivoli", "Paris", "75001", "FR"),
    ).order


def run_action(admin_client, action: str, *orders):
    return admin_client.post(
        url("order"),
        {"action": action, "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


# --- Lists and filters -----------------------------------------------------------------------


def orders_of_many_customers(shop, count: int) -> None:
    stock(shop.beanie, shop.rivoli, count)
    for n in range(count):
        pickup_order(customer(), key=f"k{n}")


@pytest.mark.parametrize("count", [3, 30])
def test_the_order_list_runs_the_same_few_queries_for_3_or_30_orders(
    admin_client, shop, django_assert_max_num_queries, count
):
    orders_of_many_customers(shop, count)

    with django_assert_max_num_queries(7):
        response = admin_client.get(url("order"))

    assert response.status_code == 200
    assert len(listed(response)) == count


def test_the_order_list_filters_by_status_fulfilment_channel_store_and_date(
    admin_client, shop, camille
):
    ready = services.mark_ready_for_pickup(order=pickup_order(camille, channel="ios"))
    at_bastille = pickup_order(camille, store="PAR-BAS", channel="web", key="k2")
    delivered = delivery_order(camille)
    year = ready.placed_at.year

    def filtered(query: str) -> set[str]:
        response = admin_client.get(url("order") + "?" + query)
        assert response.status_code == 200
        return {order.number for order in listed(response)}

    assert filtered("status__exact=ready_for_pickup") == {ready.number}
    assert filtered("fulfilment__exact=delivery") == {delivered.number}
    assert filtered("channel__exact=ios") == {ready.number}
    assert filtered("store=PAR-BAS") == {at_bastille.number}
    assert filtered(f"placed_at__year={year}") == {
        ready.number,
        at_bastille.number,
        delivered.number,
    }
    assert filtered(f"placed_at__year={year - 1}") == set()


def test_orders_are_found_by_number_or_the_customers_phone_in_any_format(
    admin_client, shop, camille
):
    IdentityFactory(customer=camille, kind="phone", value="+33612345678")
    order = pickup_order(camille)
    pickup_order(customer(), key="other")

    by_number = admin_client.get(url("order"), {"q": order.number})
    by_phone = admin_client.get(url("order"), {"q": "06 12 34 56 78"})

    assert [o.number for o in listed(by_number)] == [order.number]
    assert [o.number for o in listed(by_phone)] == [order.number]


# --- The change page -------------------------------------------------------------------------


def test_the_change_page_shows_lines_and_the_timeline_with_who_moved_the_order(
    admin_client, admin_user, shop, camille
):
    order = services.mark_ready_for_pickup(order=pickup_order(camille), actor=admin_user)

    response = admin_client.get(url("order", "change", order.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Timeline" in page
    assert "Placed → Ready for pick-up" in page
    assert "staff:admin" in page
    assert "WOOL-BEANIE" in page
    assert order.pickup_code not in page  # the customer shows it at the counter


def test_money_and_status_cannot_be_edited_by_posting_the_change_form(admin_client, shop, camille):
    order = pickup_order(camille)

    page = admin_client.get(url("order", "change", order.pk)).content.decode()
    response = admin_client.post(
        url("order", "change", order.pk),
        {"total": "0.01", "subtotal": "0.01", "status": "collected"},
    )

    assert 'name="total"' not in page
    assert response.status_code == 403
    order.refresh_from_db()
    assert (order.total, order.subtotal, order.status) == (
        Decimal("19.00"),
        Decimal("19.00"),
        "placed",
    )


@pytest.mark.parametrize("model", ["order", "cart", "return"])
def test_orders_carts_and_returns_are_not_added_or_deleted_in_the_admin(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 403


# --- Actions call the services ---------------------------------------------------------------


def test_marking_ready_gives_a_pick_up_code_and_records_the_staff_member(
    admin_client, admin_user, shop, camille
):
    order = pickup_order(camille)

    response = run_action(admin_client, "mark_ready_for_pickup", order)

    order.refresh_from_db()
    assert order.status == "ready_for_pickup"
    assert len(order.pickup_code) == 6
    assert order.events.last().actor == admin_user
    assert notices(response) == [(messages.SUCCESS, "1 order marked ready.")]


def test_a_refused_action_shows_an_error_and_changes_nothing_while_the_others_move_on(
    admin_client, shop, camille
):
    delivery = delivery_order(camille)
    pickup = pickup_order(camille, key="p")

    response = run_action(admin_client, "mark_ready_for_pickup", delivery, pickup)

    assert response.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.pickup_code) == ("allocated", "")
    assert Order.objects.get(pk=pickup.pk).status == "ready_for_pickup"
    [(error, refusal), success] = notices(response)
    assert error == messages.ERROR
    assert refusal.startswith(f"Order {delivery.number}: ")
    assert "cannot become ready for pick-up" in refusal
    assert success == (messages.SUCCESS, "1 order marked ready.")


def test_cancelling_puts_the_stock_back_and_records_the_staff_member(
    admin_client, admin_user, shop, camille
):
    order = pickup_order(camille)

    run_action(admin_client, "cancel", order)

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.events.last().actor == admin_user
    assert StockLevel.objects.get(sku=shop.beanie, location=shop.rivoli).reserved == 0


def test_cancelling_an_order_already_collected_is_refused_with_a_message(
    admin_client, shop, camille
):
    order = services.mark_ready_for_pickup(order=pickup_order(camille))
    services.collect_pickup(order=order, code=order.pickup_code)

    response = run_action(admin_client, "cancel", order)

    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).status == "collected"
    [(level, message)] = notices(response)
    assert level == messages.ERROR
    assert "cannot become cancelled" in message


# --- Carts and returns -----------------------------------------------------------------------


def test_a_cart_shows_where_each_line_came_from(admin_client, admin_user, shop, camille):
    cart = services.cart_of(customer=camille)
    services.set_line(
        cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="ios", device_id="iphone-15"
    )
    services.set_line(
        cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="store", clerk=admin_user
    )

    listing = admin_client.get(url("cart"))
    page = admin_client.get(url("cart", "change", cart.pk)).content.decode()

    assert listed(listing) == [cart]
    assert "iphone-15" in page
    assert "iOS app" in page
    assert "Store" in page
    assert admin_user.username in page


def test_a_return_shows_its_lines_and_refund(admin_client, shop, camille):
    order = services.mark_ready_for_pickup(order=pickup_order(camille))
    services.collect_pickup(order=order, code=order.pickup_code)
    ret = services.return_items(
        order=order,
        items=[ReturnedItem(order.lines.get().pk, 1, restock=True)],
        location=shop.bastille,
        idempotency_key="r1",
    )

    listing = admin_client.get(url("return"), {"store": "PAR-BAS"})
    page = admin_client.get(url("return", "change", ret.pk)).content.decode()
    order_page = admin_client.get(url("order", "change", order.pk)).content.decode()

    assert listed(listing) == [ret]
    assert "WOOL-BEANIE" in page
    assert "19.00" in page
    assert str(ret.public_id)[:8] in order_page


def test_a_delivery_order_shows_its_parcels_and_address(admin_client, shop, camille):
    order = delivery_order(camille)

    page = admin_client.get(url("order", "change", order.pk)).content.decode()

    assert "Shipments" in page
    assert "Orléans DC" in page
    assert "1 rue de Rivoli" in page
    assert "Pick-up code" not in page
