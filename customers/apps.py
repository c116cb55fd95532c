from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Unified customer profiles, identities, consents and touchpoints."""

    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from customers import (
            checks,  # noqa: F401  (registers the system checks)
            notifications,  # noqa: F401  (registers its erasure handler)
            selectors,
            services,
        )
        from omni.core.api.auth import CredentialStore, register_credential_store

        register_credential_store(
            CredentialStore(
                key_for=selectors.storefront_key_for,
                token_for=selectors.customer_token_for,
                record_token_use=services.record_customer_token_use,
            )
        )
