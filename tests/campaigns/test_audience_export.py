"""Audience files for advertising platforms: SHA-256 of the normalised e-mail and E.164 phone
of each member, only what the member consented to for advertising; a permission of its own;
every export recorded."""

import hashlib

import pytest

from campaigns.models import AudienceExport, Segment, SegmentMembership
from campaigns.services import export_audience
from customers.models import Customer
from omni.core.errors import PermissionRefused
from tests.campaigns.conftest import NOW, ago
from tests.campaigns.factories import consent, segment
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def marketer(db):
    return UserFactory(is_staff=True, permissions=["campaigns.export_audience"])


@pytest.fixture
def audience_segment(town):
    # anna: e-mail advertising consent; chloe, farid: SMS advertising; ben: none.
    seg = segment("Runners", kind=Segment.Kind.STATIC)
    for customer in (town.anna, town.ben, town.chloe, town.farid):
        SegmentMembership.objects.create(segment=seg, customer=customer, joined_at=NOW)
    return seg


def test_the_file_holds_hashes_of_what_each_member_consented_to(town, audience_segment, marketer):
    Customer.objects.filter(pk=town.anna.pk).update(email="  Anna@Example.COM ")

    exported = export_audience(segment=audience_segment, use="target", actor=marketer)

    assert "".join(exported.lines).splitlines() == [
        "email_sha256,phone_sha256",
        f"{sha('anna@example.com')},",  # her phone: no SMS advertising consent
        f",{sha('+33622222222')}",  # chloe's e-mail: no e-mail advertising consent
        f",{sha('+33633333333')}",
    ]
    record = exported.record
    assert (record.row_count, record.email_count, record.phone_count, record.left_out) == (
        3,
        1,
        2,
        1,  # ben
    )
    assert (record.use, record.actor, record.exported_at) == ("target", marketer, NOW)
    assert exported.filename == "audience-runners-target-20260315.csv"


def test_a_withdrawn_consent_keeps_the_member_out(town, audience_segment, marketer):
    consent(town.anna, "email", "advertising", False, at=ago(days=1))

    exported = export_audience(segment=audience_segment, use="exclusion", actor=marketer)

    lines = "".join(exported.lines).splitlines()
    assert sha("anna@example.com") not in "".join(lines)
    assert len(lines) == 3
    assert exported.record.use == "exclusion"


def test_an_erased_member_is_never_exported(town, audience_segment, marketer):
    SegmentMembership.objects.create(segment=audience_segment, customer=town.eve, joined_at=NOW)
    consent(town.eve, "email", "advertising", True, at=ago(days=1))
    Customer.objects.filter(pk=town.eve.pk).update(email="eve@example.com")

    exported = export_audience(segment=audience_segment, use="target", actor=marketer)

    assert sha("eve@example.com") not in "".join(exported.lines)


def test_exporting_needs_its_own_permission_and_records_nothing_without_it(town, audience_segment):
    viewer = UserFactory(is_staff=True, permissions=["campaigns.view_segment"])

    with pytest.raises(PermissionRefused):
        export_audience(segment=audience_segment, use="target", actor=viewer)

    assert not AudienceExport.objects.exists()
