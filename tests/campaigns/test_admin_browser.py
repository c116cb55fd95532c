"""The segment admin's live count in a real browser (headless Chromium, see
tests/omni/test_clerk_browser.py): typing rules shows how many customers they select, or
what is wrong with them, without saving anything."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Segment
from customers.models import Customer
from tests.campaigns.factories import order
from tests.omni.test_clerk_browser import browser, page  # noqa: F401 (fixtures)

PASSWORD = "a-marketing-password-1"


def test_typing_rules_shows_the_live_count_and_the_problems(page):  # noqa: F811
    User.objects.create_superuser("marketer", "m@example.com", PASSWORD)
    for n in range(3):
        buyer = Customer.objects.create(first_name=f"buyer{n}")
        order(buyer, at=timezone.now() - timedelta(days=n + 1))
    Customer.objects.create(first_name="browser")

    page.goto("/admin/login/?next=/admin/campaigns/segment/add/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    rules = page.locator("textarea.segment-rules")
    count = page.locator(".segment-count")

    rules.fill('{"and": [{"field": "recency_days", "operator": "lte", "value": 2}]}')
    expect(count).to_have_text("2 customers match these rules now.")

    rules.fill('{"and": [{"field": "recency_day", "operator": "lte", "value": 2}]}')
    expect(count).to_contain_text("rules.and[0]: unknown field 'recency_day'.")

    rules.fill('{"and": [')
    expect(count).to_contain_text("Not valid JSON yet")
    assert not Segment.objects.exists()
