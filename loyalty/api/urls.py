from django.urls import path

from loyalty.api import views

urlpatterns = [
    path("loyalty/me", views.MyLoyaltyView.as_view(), name="loyalty-me"),
    path("loyalty/me/history", views.MyHistoryView.as_view(), name="loyalty-history"),
    path("loyalty/me/card.png", views.MyCardQRView.as_view(), name="loyalty-card-qr"),
    path("loyalty/quote", views.QuoteView.as_view(), name="loyalty-quote"),
]
