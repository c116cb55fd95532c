"""The clerk dashboard, mounted at /clerk/."""

from django.urls import path

from omni.clerk import views

app_name = "clerk"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.ClerkLoginView.as_view(), name="login"),
    path("logout/", views.ClerkLogoutView.as_view(), name="logout"),
    path("pickups/", views.pickups, name="pickups"),
    path("customers/", views.customers, name="customers"),
    path("customers/<uuid:public_id>/", views.customer_page, name="customer"),
    path("sell/", views.sell, name="sell"),
    path("sell/lines/", views.sell_add, name="sell-add"),
    path("sell/lines/remove/", views.sell_remove, name="sell-remove"),
    path("sell/complete/", views.sell_complete, name="sell-complete"),
    path("sell/done/<str:number>/", views.sale_done, name="sale-done"),
    path("orders/<str:number>/", views.order_page, name="order"),
    path("orders/<str:number>/ready/", views.mark_ready, name="mark-ready"),
    path("orders/<str:number>/hand-over/", views.hand_over, name="hand-over"),
    path("orders/<str:number>/returns/", views.take_return, name="take-return"),
]
