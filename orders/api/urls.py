from django.urls import path

from orders.api import views

urlpatterns = [
    path("cart", views.CartView.as_view(), name="cart"),
    path("cart/lines", views.CartLinesView.as_view(), name="cart-lines"),
    path("cart/lines/<str:sku>", views.CartLineView.as_view(), name="cart-line"),
    path("cart/pickup-store", views.PickupStoreView.as_view(), name="cart-pickup-store"),
    path("cart/pickup-stores", views.CartPickupStoresView.as_view(), name="cart-pickup-stores"),
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
]
