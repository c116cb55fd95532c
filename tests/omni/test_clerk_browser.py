"""The clerk dashboard in a real browser: Debian's headless Chromium (`make test` installs it,
see scripts/ensure-chromium.sh) driven by Playwright against pytest-django's live server."""

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from customers import services as customer_services
from inventory.models import Location, StockLevel
from loyalty import services as loyalty
from orders.models import Order
from tests.api_clients import app_client
from tests.campaigns.offer_factories import coupon, offer
from tests.inventory.factories import SkuFactory
from tests.loyalty.factories import customer, programme
from tests.omni.test_clerk import (
    CLERK_PASSWORD,
    clerk_at,
    jacket_in,
    pickup_order,
    store,
    wrong_code_for,
)
from tests.omni.test_clerk_shipping import JACKET_BARCODE, delivery_order, ship_from_chain

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test still reads and writes
    # the database between steps, which Django would otherwise refuse next to a running loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # Inside Playwright's loop Django keeps a connection of its own (connections are
        # per context, not per thread): close it, or the test database cannot be dropped.
        connections.close_all()


@pytest.fixture
def page(browser, live_server):
    page = browser.new_page(base_url=live_server.url)
    page.set_default_timeout(10_000)
    return page


def test_a_clerk_logs_in_picks_an_order_and_hands_it_over_after_a_wrong_code(page):
    rivoli = store("PAR-RIV", "Paris Rivoli")
    programme()
    jacket_in(rivoli)
    clerk_at(rivoli)
    order = pickup_order(customer(first_name="Camille", last_name="Martin"), "PAR-RIV")

    page.goto("/clerk/")
    expect(page).to_have_url("/clerk/login/?next=/clerk/")
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(CLERK_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    to_pick = page.locator("#to-pick")
    expect(to_pick).to_contain_text(order.number)
    expect(to_pick).to_contain_text("Camille Martin")
    to_pick.get_by_role("link", name=order.number).click()
    page.get_by_role("button", name="Mark picked (ready for pick-up)").click()
    status = page.locator("#order-status")
    expect(status).to_have_text("Ready for pick-up")

    order.refresh_from_db()
    page.get_by_label("Pick-up code").fill(wrong_code_for(order))
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_role("alert")).to_have_text("That pick-up code does not match this order.")
    expect(status).to_have_text("Ready for pick-up")

    page.get_by_label("Pick-up code").fill(order.pickup_code)
    page.get_by_role("button", name="Hand over").click()
    expect(status).to_have_text("Collected")
    expect(page.get_by_role("status")).to_contain_text("handed over")
    order.refresh_from_db()
    assert order.status == "collected"

    page.get_by_role("link", name="Pick-ups").click()
    expect(page.locator("#to-pick")).to_contain_text("Nothing to pick.")
    expect(page.locator("#ready")).not_to_contain_text(order.number)


def test_a_clerk_finds_a_customer_by_phone_and_sells_them_an_item_for_points_with_their_card(
    page,
):
    rivoli = store("PAR-RIV", "Paris Rivoli")
    programme()
    jacket_in(rivoli)
    clerk = clerk_at(rivoli)
    camille = customer(first_name="Camille", last_name="Martin")
    customer_services.update_profile(customer=camille, changes={"phone": "06 12 34 56 78"})
    account = loyalty.enrol(customer=camille)
    loyalty.adjust_points(account=account, points=500, reason="goodwill")
    card = account.cards.get().number
    five_off = offer(name="Five off for Camille", trigger="code", reward="amount_off_cart", value=5)
    coupon("CAMILLE5", customer=camille, offer=five_off)
    customer_services.receive_message(  # asked by e-mail, through the helpdesk tool
        customer=camille, channel="email", subject="Jacket sizes", body="Does the M run small?"
    )
    page.goto("/clerk/login/")
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(CLERK_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("searchbox", name="Find a customer or an order").fill("0612345678")
    page.get_by_role("button", name="Find", exact=True).click()  # one match: her page at once
    expect(page).to_have_url(f"/clerk/customers/{camille.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Camille Martin")
    conversations = page.locator("#conversations")
    expect(conversations).to_contain_text("Jacket sizes")
    expect(conversations).to_contain_text("Does the M run small?")
    expect(conversations).to_contain_text("E-mail")
    conversations.get_by_text("Add a store note").click()
    conversations.get_by_label("Store note (staff only)").fill("Tried the L on: fits.")
    conversations.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("status")).to_contain_text("Note added")
    expect(conversations).to_contain_text("Tried the L on: fits.")
    page.get_by_role("link", name="Sell in store to Camille").click()
    page.get_by_label("SKU code or barcode").fill("RAIN-JACKET-M")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#cart-total")).to_have_text("89.00 EUR")
    expect(page.locator("#personal-offers")).to_contain_text("Five off for Camille")
    page.get_by_role("button", name="Apply code CAMILLE5").click()  # her own code, one click
    expect(page.locator("#cart-to-pay")).to_have_text("84.00 EUR")
    page.get_by_label("Points to redeem").fill("300")
    page.get_by_role("button", name="Complete the sale").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Scan the customer's loyalty card to redeem points."
    )
    page.get_by_label("Scan the customer's card to redeem points").fill(card)
    page.get_by_role("button", name="Complete the sale").click()

    expect(page.locator("#order-status")).to_have_text("Completed")
    order = Order.objects.get()
    expect(page.get_by_role("status")).to_contain_text(f"Sale {order.number} complete")
    page.get_by_role("link", name=order.number).first.click()
    expect(page).to_have_url(f"/clerk/orders/{order.number}/")
    assert (order.customer, order.clerk, order.fulfilment) == (camille, clerk, "in_store")
    assert (order.points_redeemed, order.offer_discount, order.total) == (300, 5, 81)
    assert order.discounts.get().coupon.code == "CAMILLE5"
    assert StockLevel.objects.get(location=rivoli).on_hand == 19


def test_a_clerk_sees_the_customers_wish_list_with_the_stock_here_and_saves_one_more(page):
    rivoli = store("PAR-RIV", "Paris Rivoli")
    jacket_in(rivoli)  # 20 here
    SkuFactory(code="WOOL-SCARF", price="25.00", product__name="Wool scarf")  # none here
    clerk_at(rivoli)
    camille = customer(first_name="Camille", last_name="Martin")
    customer_services.update_profile(customer=camille, changes={"phone": "06 12 34 56 78"})
    saved = app_client("ios", camille).post(
        "/api/v1/wishlists/items", {"sku": "RAIN-JACKET-M"}, format="json"
    )
    assert saved.status_code == 201
    page.goto("/clerk/login/")
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(CLERK_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("searchbox", name="Find a customer or an order").fill("0612345678")
    page.get_by_role("button", name="Find", exact=True).click()
    wish_list = page.locator("#wish-list")
    jacket_row = wish_list.get_by_role("row").filter(has_text="Rain jacket")
    expect(jacket_row).to_contain_text("iOS app")
    expect(jacket_row.locator("[data-available-here]")).to_have_text("20")

    wish_list.get_by_label("Product or SKU code, or barcode").fill("wool-scarf")
    wish_list.get_by_role("button", name="Save on the wish list").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".messages")).to_contain_text("WOOL-SCARF saved on the wish list.")
    scarf_row = page.locator("#wish-list").get_by_role("row").filter(has_text="Wool scarf")
    expect(scarf_row).to_contain_text("Store (clerk clerk)")
    expect(scarf_row.locator("[data-available-here]")).to_have_text("0")


def test_a_clerk_ships_a_web_order_from_the_store_and_the_customer_sees_the_parcel(page):
    ship_from_chain()
    clerk_at(Location.objects.get(code="PAR-RIV"))
    camille = customer(first_name="Camille", last_name="Martin", email="camille@example.com")
    order = delivery_order(camille, {"RAIN-JACKET-M": 2})
    tracking_link = "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"
    page.goto("/clerk/login/")
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(CLERK_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    to_ship = page.get_by_role("link", name="To ship")
    expect(to_ship).to_contain_text("1")
    to_ship.click()
    to_pick = page.locator("#to-pick")
    expect(to_pick).to_contain_text("Camille Martin")
    to_pick.get_by_role("link", name=order.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Ship {order.number}")
    pick_list = page.locator("#pick-list")
    expect(pick_list).to_contain_text(JACKET_BARCODE)
    page.emulate_media(media="print")
    expect(page.locator(".clerk-nav")).to_be_hidden()
    expect(page.get_by_role("button", name="Mark ticked lines picked")).to_be_hidden()
    expect(pick_list).to_be_visible()
    page.emulate_media(media="screen")

    page.get_by_label("Picked RAIN-JACKET-M").check()
    page.get_by_role("button", name="Mark ticked lines picked").click()
    expect(page.get_by_role("status")).to_contain_text("1 line picked")
    expect(page.locator("#shipment-status")).to_have_text("Picked")
    page.get_by_label("RAIN-JACKET-M units").fill("2")
    page.get_by_role("button", name="Pack into a parcel").click()
    expect(page.locator("#shipment-status")).to_have_text("Packed")
    page.get_by_label("Carrier").fill("Colissimo")
    page.get_by_label("Tracking number").fill("6A12345678901")
    page.get_by_label("Tracking link").fill(tracking_link)
    page.get_by_role("button", name="Ship this parcel").click()

    expect(page.locator("#shipment-status")).to_have_text("Shipped")
    expect(page.get_by_role("status")).to_contain_text("shipped with Colissimo (6A12345678901)")
    expect(
        page.locator("#parcels-left").get_by_role("link", name="6A12345678901")
    ).to_have_attribute("href", tracking_link)
    page.get_by_role("link", name="The order").click()
    expect(page.locator("#order-status")).to_have_text("Shipped")
    expect(page.locator("#shipments").get_by_role("link", name="6A12345678901")).to_have_attribute(
        "href", tracking_link
    )
    page.get_by_role("link", name="To ship").click()
    expect(page.locator("#to-pick")).to_contain_text("Nothing to pick.")

    mine = app_client(customer=camille).get(f"/api/v1/orders/{order.number}")
    assert mine.status_code == 200
    (shipment,) = mine.json()["shipments"]
    (parcel,) = shipment["parcels"]
    assert (shipment["location"], parcel["status"], parcel["carrier"]) == (
        "PAR-RIV",
        "shipped",
        "Colissimo",
    )
    assert (parcel["tracking_number"], parcel["tracking_url"]) == ("6A12345678901", tracking_link)
    assert parcel["lines"] == [{"sku": "RAIN-JACKET-M", "quantity": 2}]
    assert StockLevel.objects.get(location__code="PAR-RIV", sku__code="RAIN-JACKET-M").on_hand == 3
