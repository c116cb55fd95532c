"""The clerk dashboard, mounted at /clerk/."""

from django.urls import path

from omni.clerk import views

app_name = "clerk"

# A delivery shipment, under its order's number (the page checks that it is that order's).
SHIPMENT = "orders/<str:number>/shipments/<uuid:shipment>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.ClerkLoginView.as_view(), name="login"),
    path("logout/", views.ClerkLogoutView.as_view(), name="logout"),
    path("pickups/", views.pickups, name="pickups"),
    path("customers/", views.customers, name="customers"),
    path("customers/<uuid:public_id>/", views.customer_page, name="customer"),
    path("customers/<uuid:public_id>/wish-list/", views.wish_list_add, name="wish-list-add"),
    path(
        "customers/<uuid:public_id>/conversations/note/",
        views.store_note,
        name="conversation-note",
    ),
    path(
        "customers/<uuid:public_id>/conversations/<uuid:conversation>/reply/",
        views.conversation_reply,
        name="conversation-reply",
    ),
    path("sell/", views.sell, name="sell"),
    path("sell/lines/", views.sell_add, name="sell-add"),
    path("sell/lines/remove/", views.sell_remove, name="sell-remove"),
    path("sell/coupons/", views.sell_coupon, name="sell-coupon"),
    path("sell/coupons/remove/", views.sell_coupon_remove, name="sell-coupon-remove"),
    path("sell/complete/", views.sell_complete, name="sell-complete"),
    path("sell/done/<str:number>/", views.sale_done, name="sale-done"),
    path("stored-value/", views.stored_value, name="stored-value"),
    path("stored-value/top-up/", views.stored_value_top_up, name="stored-value-top-up"),
    path("stored-value/gift-cards/", views.stored_value_sell_gift, name="stored-value-sell-gift"),
    path("orders/<str:number>/", views.order_page, name="order"),
    path("orders/<str:number>/ready/", views.mark_ready, name="mark-ready"),
    path("orders/<str:number>/hand-over/", views.hand_over, name="hand-over"),
    path("orders/<str:number>/returns/", views.take_return, name="take-return"),
    path("ship/", views.to_ship, name="to-ship"),
    path(SHIPMENT, views.shipment_page, name="shipment"),
    path(f"{SHIPMENT}pick/", views.pick, name="pick"),
    path(f"{SHIPMENT}short/", views.report_short, name="report-short"),
    path(f"{SHIPMENT}pack/", views.pack, name="pack"),
    path(f"{SHIPMENT}parcels/<uuid:parcel>/ship/", views.ship_parcel, name="ship-parcel"),
    path(f"{SHIPMENT}take-over/", views.take_over, name="take-over"),
]
