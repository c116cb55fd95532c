"""The back-office for offers and coupons: a batch added generates its codes, exporting them
needs its own permission, redemptions are history only."""

import pytest
from django.contrib.auth.models import Permission, User

from campaigns import services
from campaigns.models import CodeBatch, Coupon, Offer
from tests.campaigns.offer_factories import offer

pytestmark = pytest.mark.django_db


def staff(*perms):
    user = User.objects.create_user("marketer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def test_adding_a_batch_generates_its_codes(client):
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    spring = offer(trigger=Offer.Trigger.CODE)

    response = client.post(
        "/admin/campaigns/codebatch/add/",
        {"offer": spring.pk, "name": "Mailing", "quantity": 25, "prefix": ""},
    )

    assert response.status_code == 302
    assert Coupon.objects.filter(batch=CodeBatch.objects.get()).count() == 25


def test_exporting_codes_needs_its_own_permission(client):
    spring = offer(trigger=Offer.Trigger.CODE)
    batch = services.generate_codes(offer=spring, name="Mailing", quantity=3)
    data = {"action": "export_codes", "_selected_action": [batch.pk]}

    client.force_login(staff("view_codebatch", "change_codebatch"))
    refused = client.post("/admin/campaigns/codebatch/", data)
    assert refused.get("Content-Type") != "text/csv"

    client.force_login(staff_with_export := User.objects.create_user("exporter", is_staff=True))
    staff_with_export.user_permissions.set(
        Permission.objects.filter(codename__in=["view_codebatch", "export_codes"])
    )
    exported = client.post("/admin/campaigns/codebatch/", data)
    assert exported["Content-Type"] == "text/csv"
    assert exported.content.decode().count("\n") == 4


def test_redemptions_are_read_only(client):
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    assert client.get("/admin/campaigns/redemption/add/").status_code == 403
    assert client.get("/admin/campaigns/redemption/").status_code == 200
