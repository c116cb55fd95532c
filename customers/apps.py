from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Unified customer profiles, identities, consents and touchpoints."""

    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from customers import (
            checks,  # noqa: F401  (registers the system checks)
            notifications,  # noqa: F401  (registers its erasure handler)
        )
