"""Links in messages to customers (see ``customers.views``): unsubscribe, opens, clicks and
satisfaction surveys."""

from django.urls import path

from customers import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="notification-unsubscribe"),
    path("m/o/<str:token>.gif", views.open_pixel, name="notification-open"),
    path("m/c/<str:token>", views.click, name="notification-click"),
    path("survey/<str:token>/", views.survey, name="survey-answer"),
    path("support/rate/<str:token>/", views.rate, name="conversation-rate"),
]
