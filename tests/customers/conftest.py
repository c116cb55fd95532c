import pytest
from rest_framework.test import APIClient

from omni.core.channels import Channel
from tests.customers.factories import customer_token, storefront_key

# The outbox's fixtures, for every test here.
from tests.customers.outbox import memory_backends, tasks_run_here  # noqa: F401


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def web_key(db) -> str:
    return storefront_key(Channel.WEB)


@pytest.fixture
def storefront(web_key) -> APIClient:
    """A client calling as the web storefront (API key, no customer signed in)."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=web_key)
    return client


@pytest.fixture
def signed_in(web_key):
    """A function giving a client calling as the web storefront for ``customer``."""

    def sign_in(customer) -> APIClient:
        client = APIClient()
        client.credentials(
            HTTP_X_API_KEY=web_key, HTTP_AUTHORIZATION=f"Bearer {customer_token(customer)}"
        )
        return client

    return sign_in
