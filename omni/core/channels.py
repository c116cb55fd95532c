"""Sales and contact channels, shared by every app that records where something happened."""

from django.db import models


class Channel(models.TextChoices):
    WEB = "web", "Website"
    IOS = "ios", "iOS app"
    ANDROID = "android", "Android app"
    STORE = "store", "Store"
