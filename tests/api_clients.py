"""Storefront API clients for tests: an app of a channel, optionally with a signed-in customer."""

from rest_framework.test import APIClient

from customers.services import issue_customer_token, issue_storefront_key


def app_client(channel: str = "web", customer=None) -> APIClient:
    _, key = issue_storefront_key(name=f"{channel} app", channel=channel)
    client = APIClient()
    headers = {"HTTP_X_API_KEY": key}
    if customer is not None:
        token = issue_customer_token(customer=customer, channel=channel)
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.credentials(**headers)
    return client
