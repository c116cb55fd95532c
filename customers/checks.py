"""System checks for the settings customers depend on: the notification backends."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

SETTING_OF = {
    "sms": "NOTIFICATION_SMS_BACKEND",
    "push": "NOTIFICATION_PUSH_BACKEND",
    "email": "NOTIFICATION_BACKENDS['email']",
}


@checks.register("notifications")
def notification_backends_import(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """A backend that cannot be imported would only fail when the first message is sent."""
    errors: list[checks.CheckMessage] = []
    for channel, path in settings.NOTIFICATION_BACKENDS.items():
        try:
            import_string(path)
        except ImportError as error:
            errors.append(
                checks.Error(
                    f"The {channel} notification backend {path!r} cannot be imported ({error}).",
                    hint=f"Set {SETTING_OF.get(channel, channel)} to an importable class.",
                    id="customers.E001",
                )
            )
    return errors
