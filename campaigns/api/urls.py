from django.urls import path

from campaigns.api import views

urlpatterns = [
    path("offers/me", views.MyOffersView.as_view(), name="my-offers"),
]
