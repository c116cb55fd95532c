"""Inventory under ``/api/v1/``: stores and availability for storefronts, stock sync,
transfers and cycle counts for staff and integrations."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api import views

app_name = "inventory"

router = SimpleRouter()
router.register("transfers", views.TransferViewSet, basename="transfer")

urlpatterns = [
    path("stores/", views.StoresNearView.as_view(), name="stores-near"),
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
    path("stock/movements/", views.StockSyncView.as_view(), name="stock-sync"),
    path("cycle-counts/", views.CycleCountView.as_view(), name="cycle-count"),
    *router.urls,
]
