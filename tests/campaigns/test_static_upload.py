"""Static segments from a CSV: one e-mail, phone or loyalty card number per line. A file with
any bad line is refused whole, each bad line named, and nothing changes."""

import io

import pytest

from campaigns.models import Segment, SegmentChange, SegmentMembership
from campaigns.services import MemberFileInvalid, import_static_members
from customers.models import Identity
from omni.core.errors import InvalidRequest
from tests.campaigns.factories import segment

pytestmark = pytest.mark.django_db


def csv(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


@pytest.fixture
def people(town):
    for customer in (town.anna, town.chloe, town.farid):
        Identity.objects.create(customer=customer, kind="phone", value=customer.phone)
    Identity.objects.create(customer=town.ben, kind="email", value="ben@example.com")
    Identity.objects.create(customer=town.eve, kind="email", value="eve@example.com")
    return town


@pytest.fixture
def vip(people):
    return segment("VIP", kind=Segment.Kind.STATIC)


def names(seg) -> set[str]:
    return set(seg.memberships.values_list("customer__first_name", flat=True))


def test_members_are_found_by_e_mail_phone_or_loyalty_card(vip, people):
    upload = csv(
        "email",  # a header naming the column is skipped
        " BEN@Example.com ",
        "06 22 22 22 22",  # chloe, in national format
        "4000 0000 0000 0001",  # anna's loyalty card
        "+33611111111",  # anna again, by phone: one membership
    )

    refresh = import_static_members(segment=vip, stream=upload, actor=None)

    assert names(vip) == {"anna", "ben", "chloe"}
    assert (refresh.joined, refresh.left, refresh.members) == (3, 0, 3)
    assert vip.member_count == 3


def test_a_new_file_replaces_the_members_and_records_who_left(vip, people):
    import_static_members(segment=vip, stream=csv("ben@example.com", "+33622222222"), actor=None)

    refresh = import_static_members(
        segment=vip, stream=csv("+33633333333", "ben@example.com"), actor=None
    )

    assert names(vip) == {"ben", "farid"}
    assert (refresh.joined, refresh.left) == (1, 1)
    assert set(refresh.changes.values_list("customer__first_name", "kind")) == {
        ("farid", "joined"),
        ("chloe", "left"),
    }


def test_a_file_may_add_to_the_members_instead(vip, people):
    import_static_members(segment=vip, stream=csv("ben@example.com"), actor=None)

    import_static_members(segment=vip, stream=csv("+33633333333"), actor=None, replace=False)

    assert names(vip) == {"ben", "farid"}


def test_a_file_with_bad_lines_is_refused_naming_each_line_and_changes_nothing(vip, people):
    import_static_members(segment=vip, stream=csv("ben@example.com"), actor=None)
    upload = csv(
        "ben@example.com",
        "not an address",
        "",
        "nobody@example.com",
        "eve@example.com",
        "4000000000000009",
        "+33611111111,extra",
    )

    with pytest.raises(MemberFileInvalid) as refused:
        import_static_members(segment=vip, stream=upload, actor=None)

    assert refused.value.errors == [
        "Line 2: “not an address” is not an e-mail address, a phone number or a 16-digit "
        "loyalty card number.",
        "Line 7: “+33611111111,extra” is not an e-mail address, a phone number or a 16-digit "
        "loyalty card number.",
    ]
    assert names(vip) == {"ben"}

    readable = csv("ben@example.com", "nobody@example.com", "eve@example.com", "4000000000000009")
    with pytest.raises(MemberFileInvalid) as refused:
        import_static_members(segment=vip, stream=readable, actor=None)

    assert refused.value.errors == [
        "Line 2: no customer has the e-mail nobody@example.com.",
        "Line 3: the customer with this e-mail was erased.",
        "Line 4: no customer has the loyalty card 4000000000000009.",
    ]
    assert names(vip) == {"ben"}
    assert SegmentChange.objects.count() == 1


def test_an_empty_file_is_refused(vip):
    with pytest.raises(MemberFileInvalid) as refused:
        import_static_members(segment=vip, stream=csv("email", ""), actor=None)

    assert refused.value.errors == ["The file has no rows: one e-mail, phone or card per line."]


def test_a_file_over_the_size_limit_is_refused(vip, settings):
    settings.SEGMENT_UPLOAD_MAX_ROWS = 2

    with pytest.raises(MemberFileInvalid) as refused:
        import_static_members(
            segment=vip, stream=csv("a@example.com", "b@example.com", "c@example.com"), actor=None
        )

    assert refused.value.errors == ["The file has more than 2 rows."]
    assert not SegmentMembership.objects.exists()


def test_a_file_that_is_not_text_is_refused(vip):
    with pytest.raises(MemberFileInvalid) as refused:
        import_static_members(segment=vip, stream=io.BytesIO(b"\xff\xfe\x00bad"), actor=None)

    assert refused.value.errors == ["The file is not UTF-8 text (save it as CSV UTF-8)."]


def test_a_dynamic_segment_takes_no_upload(people):
    dynamic = segment("Recent", {"field": "recency_days", "operator": "lte", "value": 3})

    with pytest.raises(InvalidRequest):
        import_static_members(segment=dynamic, stream=csv("ben@example.com"), actor=None)
