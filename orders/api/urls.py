from django.urls import path

from orders.api import (
    carrier_webhook,
    fulfilment_views,
    stored_value_views,
    support_views,
    views,
    wishlist_views,
)

urlpatterns = [
    path("cart", views.CartView.as_view(), name="cart"),
    path("cart/lines", views.CartLinesView.as_view(), name="cart-lines"),
    path("cart/lines/<str:sku>", views.CartLineView.as_view(), name="cart-line"),
    path("cart/pickup-store", views.PickupStoreView.as_view(), name="cart-pickup-store"),
    path("cart/pickup-stores", views.CartPickupStoresView.as_view(), name="cart-pickup-stores"),
    path("cart/coupon", views.CartCouponView.as_view(), name="cart-coupon"),
    path("cart/merge", views.MergeCartView.as_view(), name="cart-merge"),
    path("checkout", views.CheckoutView.as_view(), name="checkout"),
    path("orders", views.MyOrdersView.as_view(), name="my-orders"),
    path("orders/<str:number>", views.MyOrderView.as_view(), name="my-order"),
    path("orders/<str:number>/cancel", views.CancelMyOrderView.as_view(), name="cancel-order"),
    path(
        "orders/<str:number>/pickup-code.png",
        views.PickupCodeQRView.as_view(),
        name="pickup-code-qr",
    ),
    # Wish lists: a customer's on every device, a guest's by X-Wishlist-Token.
    path("wishlists", wishlist_views.WishListsView.as_view(), name="wishlists"),
    path("wishlists/items", wishlist_views.WishListItemsView.as_view(), name="wishlist-items"),
    path("wishlists/merge", wishlist_views.MergeWishListsView.as_view(), name="wishlists-merge"),
    path(
        "wishlists/shared/<str:share_token>",
        wishlist_views.SharedWishListView.as_view(),
        name="wishlist-shared",
    ),
    path("wishlists/<uuid:list_id>", wishlist_views.OneWishListView.as_view(), name="wishlist"),
    path(
        "wishlists/<uuid:list_id>/items/<uuid:item_id>",
        wishlist_views.WishListItemView.as_view(),
        name="wishlist-item",
    ),
    path(
        "wishlists/<uuid:list_id>/share",
        wishlist_views.ShareWishListView.as_view(),
        name="wishlist-share",
    ),
    path(
        "stored-value/cards/<uuid:card_id>/top-up",
        stored_value_views.TopUpView.as_view(),
        name="stored-value-top-up",
    ),
    path(
        "stored-value/gift-cards",
        stored_value_views.BuyGiftCardView.as_view(),
        name="stored-value-gift-cards",
    ),
    # The helpdesk or chat tool (service conversations).
    path("support/messages", support_views.InboundMessagesView.as_view(), name="support-inbound"),
    path("support/outbound", support_views.OutboundMessagesView.as_view(), name="support-outbound"),
    path(
        "support/outbound/<uuid:message_id>/delivered",
        support_views.OutboundDeliveredView.as_view(),
        name="support-outbound-delivered",
    ),
    # Warehouse systems and staff tools (fulfilment), carriers (signed webhook).
    path(
        "fulfilment/shipments",
        fulfilment_views.ShipmentQueueView.as_view(),
        name="fulfilment-queue",
    ),
    path(
        "fulfilment/shipments/<uuid:shipment_id>",
        fulfilment_views.ShipmentDetailView.as_view(),
        name="fulfilment-shipment",
    ),
    path(
        "fulfilment/shipments/<uuid:shipment_id>/pick",
        fulfilment_views.PickView.as_view(),
        name="fulfilment-pick",
    ),
    path(
        "fulfilment/shipments/<uuid:shipment_id>/pack",
        fulfilment_views.PackView.as_view(),
        name="fulfilment-pack",
    ),
    path(
        "fulfilment/shipments/<uuid:shipment_id>/ship",
        fulfilment_views.ShipView.as_view(),
        name="fulfilment-ship",
    ),
    path(
        "fulfilment/shipments/<uuid:shipment_id>/lines/<uuid:line_id>/short",
        fulfilment_views.ShortView.as_view(),
        name="fulfilment-short",
    ),
    path(
        "fulfilment/parcels/<uuid:parcel_id>/ship",
        fulfilment_views.ParcelShipView.as_view(),
        name="fulfilment-ship-parcel",
    ),
    path(
        "fulfilment/parcels/<uuid:parcel_id>/deliver",
        fulfilment_views.ParcelDeliverView.as_view(),
        name="fulfilment-deliver-parcel",
    ),
    path(
        "carriers/<str:carrier>/events",
        carrier_webhook.CarrierEventView.as_view(),
        name="carrier-events",
    ),
]
