"""Customer endpoints, included at ``/api/v1/`` by ``omni/api/urls.py``."""

from django.urls import path

from customers.api import views

urlpatterns = [
    path("customers/sign-up", views.SignUpView.as_view(), name="customer-sign-up"),
    path(
        "customers/sign-up/confirm",
        views.SignUpConfirmView.as_view(),
        name="customer-sign-up-confirm",
    ),
    path("customers/sign-in", views.SignInView.as_view(), name="customer-sign-in"),
    path("customers/me", views.MyProfileView.as_view(), name="customer-me"),
    path("customers/me/sign-out", views.SignOutView.as_view(), name="customer-sign-out"),
    path(
        "customers/me/sign-out-everywhere",
        views.SignOutEverywhereView.as_view(),
        name="customer-sign-out-everywhere",
    ),
    path("customers/me/password", views.MyPasswordView.as_view(), name="customer-password"),
    path("customers/me/consents", views.MyConsentsView.as_view(), name="customer-consents"),
    path("customers/me/export", views.MyDataExportView.as_view(), name="customer-export"),
    path("customers/me/erasure", views.MyErasureView.as_view(), name="customer-erasure"),
    path("customers/me/surveys", views.MySurveyAnswersView.as_view(), name="customer-surveys"),
    path(
        "customers/me/conversations",
        views.MyConversationsView.as_view(),
        name="customer-conversations",
    ),
    path(
        "customers/me/conversations/<uuid:public_id>",
        views.MyConversationView.as_view(),
        name="customer-conversation",
    ),
    path(
        "customers/me/conversations/<uuid:public_id>/messages",
        views.MyConversationMessagesView.as_view(),
        name="customer-conversation-messages",
    ),
    path("events", views.EventIngestionView.as_view(), name="event-ingestion"),
]
