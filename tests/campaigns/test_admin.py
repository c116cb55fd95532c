"""Marketers build segments in the admin: rules edited as checked JSON with a live count,
"refresh now", members and changes, static uploads, audience exports with their own
permission, RFM recomputed on demand, and the Customers list filtered by segment."""

import io
import json

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from campaigns.models import AudienceExport, CustomerRfm, Segment, SegmentMembership
from campaigns.services import refresh_segment
from tests.campaigns.conftest import NOW
from tests.campaigns.factories import segment
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db

SEGMENTS = "/admin/campaigns/segment/"
COUNT = "/admin/campaigns/segment/count/"
RECENT = {"and": [{"field": "recency_days", "operator": "lte", "value": 7}]}


def staff(client, *permissions):
    user = UserFactory(is_staff=True, permissions=list(permissions))
    client.force_login(user)
    return user


def count(client, rules, **extra):
    return client.post(
        COUNT, json.dumps({"rules": rules, **extra}), content_type="application/json"
    )


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_segment_page_lists_every_field_and_loads_the_live_count(admin_client, town):
    page = admin_client.get(f"{SEGMENTS}add/")

    html = page.content.decode()
    assert page.status_code == 200
    for field in ("recency_days", "viewed_category_not_bought", "distance_km", "rfm_segment"):
        assert f"<code>{field}</code>" in html
    assert "campaigns/segment_rules.js" in html
    assert f'data-count-url="{COUNT}"' in html


def test_a_bad_rule_is_refused_on_the_form_and_nothing_is_saved(admin_client, town):
    rules = {"and": [{"field": "bought_category", "operator": "in", "value": ["runing"]}]}

    page = admin_client.post(
        f"{SEGMENTS}add/",
        {"name": "Runners", "kind": "dynamic", "rules": json.dumps(rules), "auto_refresh": "on"},
    )

    assert page.status_code == 200
    assert page.context["adminform"].form.errors == {
        "rules": ["rules.and[0] (bought_category): unknown category codes: runing."]
    }
    assert not Segment.objects.exists()


def test_a_good_rule_is_saved(admin_client, town):
    page = admin_client.post(
        f"{SEGMENTS}add/",
        {"name": "Recent", "kind": "dynamic", "rules": json.dumps(RECENT), "auto_refresh": "on"},
    )

    assert page.status_code == 302
    assert Segment.objects.get().rules == RECENT


def test_the_live_count_counts_the_rules_being_typed(client, town):
    staff(client, "campaigns.view_segment")

    answer = count(client, RECENT)

    assert (answer.status_code, answer.json()) == (200, {"count": 2})  # anna, chloe


def test_the_live_count_names_what_is_wrong(client, town):
    staff(client, "campaigns.view_segment")

    answer = count(client, {"and": [{"field": "agee", "operator": "gte", "value": 3}]})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error"
    assert answer.json()["error"]["details"] == {
        "rules": ["rules.and[0]: unknown field 'agee'. Did you mean 'age'?"]
    }


def test_the_live_count_sees_a_circle_with_the_segment_being_edited(client, town):
    staff(client, "campaigns.view_segment")
    a = segment("A", RECENT)
    segment("B", {"field": "in_segment", "operator": "in", "value": ["A"]})

    answer = count(
        client, {"field": "in_segment", "operator": "in", "value": ["B"]}, segment=a.pk, name="A"
    )

    assert answer.json()["error"]["details"]["rules"] == [
        "rules: segments go round in a circle: A → B → A."
    ]


def test_the_live_count_is_for_staff_who_may_see_segments(client, town):
    assert count(client, RECENT).status_code == 403  # not signed in

    staff(client)  # staff, without the permission
    assert count(client, RECENT).status_code == 403

    client.force_login(UserFactory(is_staff=False, permissions=["campaigns.view_segment"]))
    assert count(client, RECENT).status_code == 403


def test_the_live_count_is_throttled_per_staff_member(client, town, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "segment_count.staff": "2/min"}
    staff(client, "campaigns.view_segment")

    answers = [count(client, RECENT).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


def test_refresh_now_materialises_the_members(admin_client, town):
    recent = segment("Recent", RECENT)

    page = admin_client.post(
        SEGMENTS, {"action": "refresh_selected", ACTION_CHECKBOX_NAME: [recent.pk]}, follow=True
    )

    assert "1 segment refreshed." in said(page)
    assert set(recent.memberships.values_list("customer__first_name", flat=True)) == {
        "anna",
        "chloe",
    }
    change_page = admin_client.get(f"{SEGMENTS}{recent.pk}/change/").content.decode()
    assert "2 customers" in change_page
    assert "Joined" in change_page


def test_the_customers_list_filters_by_segment(admin_client, town):
    recent = segment("Recent", RECENT)
    refresh_segment(segment=recent)

    page = admin_client.get("/admin/customers/customer/", {"in_segment": recent.pk})

    assert {c.first_name for c in page.context["cl"].result_list} == {"anna", "chloe"}
    assert admin_client.get("/admin/customers/customer/", {"in_segment": "x"}).status_code == 200


def test_a_static_list_is_uploaded_and_a_bad_file_changes_nothing(admin_client, town):
    vip = segment("VIP", kind=Segment.Kind.STATIC)
    upload = f"{SEGMENTS}{vip.pk}/upload/"

    bad = admin_client.post(
        upload, {"file": io.BytesIO(b"4000000000000001\nnobody@example.com\n"), "mode": "replace"}
    )

    assert bad.status_code == 200
    assert bad.context["problems"] == ["Line 2: no customer has the e-mail nobody@example.com."]
    assert not SegmentMembership.objects.exists()

    good = admin_client.post(upload, {"file": io.BytesIO(b"4000000000000001\n"), "mode": "add"})

    assert good.status_code == 302
    assert list(vip.memberships.values_list("customer__first_name", flat=True)) == ["anna"]


def test_uploading_needs_the_change_permission(client, town):
    vip = segment("VIP", kind=Segment.Kind.STATIC)
    staff(client, "campaigns.view_segment")

    answer = client.post(f"{SEGMENTS}{vip.pk}/upload/", {"file": io.BytesIO(b"x\n")})

    assert answer.status_code == 403


def test_an_audience_is_exported_with_the_permission_and_recorded(client, town):
    seg = segment("Runners", kind=Segment.Kind.STATIC)
    SegmentMembership.objects.create(segment=seg, customer=town.anna, joined_at=NOW)
    user = staff(client, "campaigns.view_segment", "campaigns.export_audience")

    answer = client.post(SEGMENTS, {"action": "export_target_list", ACTION_CHECKBOX_NAME: [seg.pk]})

    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv"
    body = b"".join(answer.streaming_content).decode().splitlines()
    assert body[0] == "email_sha256,phone_sha256"
    assert len(body) == 2
    assert AudienceExport.objects.get().actor == user


def test_exporting_an_audience_needs_its_own_permission(client, town):
    seg = segment("Runners", kind=Segment.Kind.STATIC)
    SegmentMembership.objects.create(segment=seg, customer=town.anna, joined_at=NOW)
    staff(client, "campaigns.view_segment", "campaigns.change_segment")

    listing = client.get(SEGMENTS)
    answer = client.post(SEGMENTS, {"action": "export_target_list", ACTION_CHECKBOX_NAME: [seg.pk]})

    actions = [name for name, _ in listing.context["action_form"].fields["action"].choices]
    assert "export_target_list" not in actions
    assert "refresh_selected" in actions
    assert answer.get("Content-Type", "").startswith("text/html")
    assert not AudienceExport.objects.exists()


def test_the_rfm_scores_are_recomputed_on_demand(admin_client, town):
    page = admin_client.post(reverse("admin:campaigns_customerrfm_recompute"), follow=True)

    assert "RFM scores recomputed for 3 customers." in said(page)
    assert CustomerRfm.objects.count() == 3
    assert admin_client.get(reverse("admin:campaigns_customerrfm_recompute")).status_code == 403


def test_the_live_count_needs_the_pages_csrf_token(town):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    staff(client, "campaigns.view_segment")

    assert count(client, RECENT).status_code == 403


def test_a_segment_other_rules_name_cannot_be_deleted(admin_client, town):
    recent = segment("Recent", RECENT)
    segment(
        "Recent in Paris", {"and": [{"field": "in_segment", "operator": "in", "value": ["Recent"]}]}
    )

    page = admin_client.post(f"{SEGMENTS}{recent.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200  # the confirmation page, listing what protects it
    assert "Recent in Paris (its rules name Recent)" in page.content.decode()
    assert Segment.objects.filter(pk=recent.pk).exists()
