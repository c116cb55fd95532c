import pytest
import yaml
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


def test_home_page_links_to_the_back_office_and_the_api_docs(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b'href="/admin/"' in response.content
    assert b'href="/api/v1/docs/"' in response.content


def test_admin_log_in_page_is_served(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "Omni storefront API"
    assert schema["openapi"].startswith("3.")


def test_no_api_call_shows_what_the_retailer_paid_for_its_goods(client):
    schema = client.get("/api/v1/schema/").content.decode()

    assert "cost_price" not in schema
    assert "unit_cost" not in schema


def test_api_docs_page_loads_its_assets_from_this_server_not_a_cdn(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    assert b"drf_spectacular_sidecar" in response.content
    assert b"cdn." not in response.content


def test_staff_can_log_in_to_the_admin(client):
    User.objects.create_user("manager", password="a-good-password-1", is_staff=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "manager", "password": "a-good-password-1"}
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
