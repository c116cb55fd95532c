from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Unified customer profiles, identities, consents and touchpoints."""

    name = "customers"
    verbose_name = "Customers"
