import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.models import CycleCount, StockLevel, StockMovement
from inventory.services import CountFileInvalid, parse_count_csv, record_count_file
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db

UPLOAD_URL = "admin:inventory_cyclecount_upload"


def csv_file(text: str, *, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def problems_in(text: str) -> list[str]:
    with pytest.raises(CountFileInvalid) as refused:
        parse_count_csv(csv_file(text))
    return refused.value.errors


def on_hand(sku, location) -> int:
    return StockLevel.objects.get(sku=sku, location=location).on_hand


# --- Reading the file ------------------------------------------------------------------------


def test_a_good_file_gives_each_sku_its_counted_quantity():
    shirt, socks = SkuFactory(code="SHIRT-M"), SkuFactory(code="SOCKS-42")

    counts = parse_count_csv(csv_file("sku,counted\nSHIRT-M,12\n\n SOCKS-42 , 0 \n"))

    assert counts == {shirt: 12, socks: 0}


def test_a_spreadsheet_export_with_bom_semicolons_and_extra_columns_is_read():
    shirt = SkuFactory(code="SHIRT-M")

    counts = parse_count_csv(
        csv_file("\ufeffShelf;SKU;Description;Counted\r\nA3;SHIRT-M;Shirt, blue;7\r\n")
    )

    assert counts == {shirt: 7}


def test_every_bad_row_is_reported_with_its_row_number():
    SkuFactory(code="SHIRT-M")
    SkuFactory(code="SHIRT-L")

    problems = problems_in(
        "sku,counted\nSHIRT-M,3\nGHOST-1,4\nSHIRT-L,many\nSHIRT-L,-2\nSHIRT-L,1.5\nSHIRT-M,5\n,2\n"
    )

    assert problems == [
        "Row 3: unknown SKU code “GHOST-1”.",
        "Row 4: the count “many” for SHIRT-L is not a whole number.",
        "Row 5: the count -2 for SHIRT-L is negative.",
        "Row 6: the count “1.5” for SHIRT-L is not a whole number.",
        "Row 7: SKU SHIRT-M was already counted on row 2.",
        "Row 8: no SKU code.",
    ]


def test_a_file_without_the_sku_and_counted_header_is_refused():
    SkuFactory(code="SHIRT-M")

    assert problems_in("SHIRT-M,3\n") == [
        "Row 1: the header row must name the columns “sku” and “counted” (missing: sku, counted)."
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "The file is empty; it needs a “sku,counted” header row."),
        ("sku,counted\n\n", "The file has no counted rows below its header."),
    ],
)
def test_a_file_with_nothing_counted_is_refused(text, problem):
    assert problems_in(text) == [problem]


def test_a_file_that_is_not_utf8_text_is_refused():
    with pytest.raises(CountFileInvalid) as refused:
        parse_count_csv(csv_file("sku,counted\nCHAUSSÉE,1\n", encoding="latin-1"))

    assert refused.value.errors == ["The file is not UTF-8 text; save it as “CSV UTF-8”."]


# --- Recording it ----------------------------------------------------------------------------


def test_a_recorded_file_turns_each_difference_into_a_csv_ledger_row():
    store = LocationFactory()
    short, exact = SkuFactory(code="SHORT"), SkuFactory(code="EXACT")
    stock(short, store, 10)
    stock(exact, store, 4)

    count = record_count_file(location=store, stream=csv_file("sku,counted\nSHORT,7\nEXACT,4\n"))

    assert count.source == "csv"
    assert (on_hand(short, store), on_hand(exact, store)) == (7, 4)
    corrections = StockMovement.objects.filter(kind=StockMovement.Kind.CYCLE_COUNT)
    assert list(corrections.values_list("quantity", "source")) == [(-3, "csv")]


def test_a_file_with_one_bad_row_records_nothing():
    store = LocationFactory()
    sku = SkuFactory(code="SHIRT-M")
    stock(sku, store, 10)

    with pytest.raises(CountFileInvalid):
        record_count_file(location=store, stream=csv_file("sku,counted\nSHIRT-M,7\nGHOST,1\n"))

    assert not CycleCount.objects.exists()
    assert on_hand(sku, store) == 10
    assert StockMovement.objects.count() == 1


# --- Through the admin -----------------------------------------------------------------------


def upload(client, location, text: str, note: str = ""):
    return client.post(
        reverse(UPLOAD_URL),
        {
            "location": location.pk,
            "file": SimpleUploadedFile("count.csv", text.encode(), content_type="text/csv"),
            "note": note,
        },
    )


def test_uploading_a_good_file_in_the_admin_records_the_count_and_its_ledger_rows(
    admin_client, admin_user
):
    store = LocationFactory()
    shirt, socks = SkuFactory(code="SHIRT-M"), SkuFactory(code="SOCKS-42")
    stock(shirt, store, 10)

    response = upload(admin_client, store, "sku,counted\nSHIRT-M,8\nSOCKS-42,3\n", "Aisle 4")

    count = CycleCount.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:inventory_cyclecount_change", args=[count.pk])
    assert (count.source, count.counted_by, count.note) == ("csv", admin_user, "Aisle 4")
    assert (on_hand(shirt, store), on_hand(socks, store)) == (8, 3)
    ledger = StockMovement.objects.filter(reference=f"count:{count.public_id}")
    assert sorted(ledger.values_list("quantity", flat=True)) == [-2, 3]
    page = admin_client.get(response.url).content.decode()
    assert "2 SKUs counted, 2 corrected in the ledger." in page


def test_uploading_a_bad_file_in_the_admin_shows_every_problem_and_records_nothing(
    admin_client,
):
    store = LocationFactory()
    shirt = SkuFactory(code="SHIRT-M")
    stock(shirt, store, 10)

    response = upload(admin_client, store, "sku,counted\nSHIRT-M,8\nGHOST,1\nSHIRT-M,-1\n")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was recorded." in page
    assert "Row 3: unknown SKU code “GHOST”." in page
    assert "Row 4: the count -1 for SHIRT-M is negative." in page
    assert not CycleCount.objects.exists()
    assert on_hand(shirt, store) == 10


def test_a_count_of_an_inactive_sku_is_refused_with_the_reason_and_records_nothing(
    admin_client,
):
    store = LocationFactory()
    SkuFactory(code="RETIRED", is_active=False)

    response = upload(admin_client, store, "sku,counted\nRETIRED,2\n")

    assert "Inactive SKU: RETIRED." in response.content.decode()
    assert not CycleCount.objects.exists()


def test_the_cycle_count_list_links_to_the_upload_form(admin_client):
    listing = admin_client.get(reverse("admin:inventory_cyclecount_changelist"))
    form_page = admin_client.get(reverse(UPLOAD_URL))

    assert f'href="{reverse(UPLOAD_URL)}"' in listing.content.decode()
    assert form_page.status_code == 200
    assert 'type="file" name="file"' in form_page.content.decode()


def test_staff_who_may_only_view_counts_cannot_upload(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_cyclecount"))
    client.force_login(viewer)

    response = upload(client, LocationFactory(), "sku,counted\n")

    assert response.status_code == 403
    assert (
        reverse(UPLOAD_URL)
        not in client.get(reverse("admin:inventory_cyclecount_changelist")).content.decode()
    )
