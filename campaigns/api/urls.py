from django.urls import path

from campaigns.api import views

urlpatterns = [
    path("offers/me", views.MyOffersView.as_view(), name="my-offers"),
    path("products/<slug:code>/also-bought", views.AlsoBoughtView.as_view(), name="also-bought"),
    path("recommendations/me", views.MyRecommendationsView.as_view(), name="my-recommendations"),
]
