from django.urls import path

from orders.api import carrier_webhook, fulfilment_views, support_views, views

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
