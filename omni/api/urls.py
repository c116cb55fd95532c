"""``/api/v1/``: every app's storefront endpoints, the OpenAPI schema and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

app_name = "api"

urlpatterns = [
    path("", include("customers.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include("inventory.api.urls")),
    path("", include("loyalty.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("campaigns.api.urls")),
]
