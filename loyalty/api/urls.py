from django.urls import path

from loyalty.api import views

urlpatterns = [
    path("loyalty/me", views.MyLoyaltyView.as_view(), name="loyalty-me"),
    path("loyalty/me/history", views.MyHistoryView.as_view(), name="loyalty-history"),
    path("loyalty/me/card.png", views.MyCardQRView.as_view(), name="loyalty-card-qr"),
    path("loyalty/quote", views.QuoteView.as_view(), name="loyalty-quote"),
    path("stored-value/cards", views.MyStoredValueCardsView.as_view(), name="stored-value-cards"),
    path(
        "stored-value/cards/claim",
        views.ClaimStoredValueCardView.as_view(),
        name="stored-value-claim",
    ),
    path(
        "stored-value/cards/<uuid:card_id>",
        views.MyStoredValueCardView.as_view(),
        name="stored-value-card",
    ),
    path(
        "stored-value/cards/<uuid:card_id>/history",
        views.MyStoredValueHistoryView.as_view(),
        name="stored-value-history",
    ),
    path(
        "stored-value/cards/<uuid:card_id>/qr.png",
        views.MyStoredValueQRView.as_view(),
        name="stored-value-qr",
    ),
]
