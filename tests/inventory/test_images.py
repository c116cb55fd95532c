import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from inventory import images
from inventory.models import ProductImage
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db

EXIF_ORIENTATION = 0x0112
ROTATED_90_CLOCKWISE = 6


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(
    name="photo.png", *, fmt="PNG", size=(800, 600), mode="RGB", colour="teal", orientation=None
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    options = {}
    if orientation:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        options["exif"] = exif
    Image.new(mode, size, colour).save(buffer, format=fmt, **options)
    return SimpleUploadedFile(name, buffer.getvalue())


def png_header_claiming(width: int, height: int) -> SimpleUploadedFile:
    """A tiny PNG whose header claims an enormous picture: a decompression bomb."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile("bomb.png", data)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def thumbnail_of(product_image: ProductImage) -> Image.Image:
    with product_image.thumbnail.open("rb") as stored:
        thumbnail = Image.open(io.BytesIO(stored.read()))
        thumbnail.load()
    return thumbnail


# --- Accepted pictures -----------------------------------------------------------------------


def test_a_png_is_stored_with_a_webp_thumbnail_that_fits_400_pixels_and_keeps_its_shape():
    product = ProductFactory()

    product_image = images.add_product_image(
        product=product, upload=picture(size=(1200, 600)), alt_text="Front"
    )

    thumbnail = thumbnail_of(product_image)
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (400, 200))
    assert product_image.image.name.startswith("products/")
    assert product_image.thumbnail.name.startswith("products/thumbnails/")
    assert ProductImage.objects.get().alt_text == "Front"


def test_a_jpeg_rotated_by_its_exif_orientation_gets_an_upright_thumbnail():
    landscape_as_stored = picture("photo.jpg", fmt="JPEG", size=(800, 400), orientation=6)

    product_image = images.add_product_image(product=ProductFactory(), upload=landscape_as_stored)

    assert thumbnail_of(product_image).size == (200, 400)


def test_a_transparent_png_keeps_its_transparency_in_the_thumbnail():
    product_image = images.add_product_image(
        product=ProductFactory(), upload=picture(mode="RGBA", colour=(0, 128, 128, 90))
    )

    assert thumbnail_of(product_image).mode == "RGBA"


def test_a_small_picture_is_not_enlarged():
    product_image = images.add_product_image(
        product=ProductFactory(), upload=picture("small.webp", fmt="WEBP", size=(120, 80))
    )

    assert thumbnail_of(product_image).size == (120, 80)


# --- Refused uploads: a clear message, no row, no file ---------------------------------------


def truncated_jpeg() -> SimpleUploadedFile:
    whole = picture("cut.jpg", fmt="JPEG", size=(600, 600)).read()
    return SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2])


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        pytest.param(
            SimpleUploadedFile("notes.png", b"just some text, not a picture"),
            "This file is not a picture that can be read",
            id="text-renamed-png",
        ),
        pytest.param(
            picture("anim.gif", fmt="GIF"),
            "GIF images are not accepted; upload a JPEG, PNG or WebP picture.",
            id="gif",
        ),
        pytest.param(
            png_header_claiming(10_000, 10_000),
            "The picture has far too many pixels",
            id="bomb-pillow-warns",
        ),
        pytest.param(
            png_header_claiming(30_000, 30_000),
            "The picture has far too many pixels",
            id="bomb-pillow-refuses",
        ),
        pytest.param(
            png_header_claiming(8_000, 6_000),
            "The picture is 8000 x 6000 pixels (48 megapixels); a product image may have at "
            "most 40 megapixels.",
            id="over-40-megapixels",
        ),
        pytest.param(
            truncated_jpeg(),
            "This file is not a picture that can be read",
            id="truncated-jpeg",
        ),
    ],
)
def test_an_unusable_upload_is_refused_with_a_clear_message_and_leaves_nothing(
    upload, message, media_root
):
    with pytest.raises(ValidationError) as refused:
        images.add_product_image(product=ProductFactory(), upload=upload)

    assert message in refused.value.messages[0]
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_over_the_byte_limit_is_refused(settings, media_root):
    settings.MAX_PRODUCT_IMAGE_BYTES = 1000
    upload = picture(size=(400, 400), mode="RGB")
    upload = SimpleUploadedFile("big.png", upload.read() + b"\0" * 1000)

    with pytest.raises(ValidationError) as refused:
        images.add_product_image(product=ProductFactory(), upload=upload)

    assert refused.value.messages == [
        f"The file is {upload.size / 1024:.1f}\xa0KB; a product image may be at most 1000\xa0bytes."
    ]
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_the_pixel_limit_is_a_setting(settings):
    settings.MAX_PRODUCT_IMAGE_PIXELS = 10_000

    with pytest.raises(ValidationError) as refused:
        images.check_product_image(picture(size=(200, 100)))

    assert refused.value.code == "too_many_pixels"


def test_when_the_row_cannot_be_saved_the_files_written_are_removed(media_root):
    product_image = ProductImage(product=ProductFactory(), position=-1)  # violates the CHECK
    images.prepare_product_image(product_image, picture())

    with pytest.raises(Exception, match="position"):
        images.save_product_image(product_image)

    assert stored_files(media_root) == []


def test_replacing_a_picture_deletes_the_old_files_once_committed(
    media_root, django_capture_on_commit_callbacks
):
    product_image = images.add_product_image(product=ProductFactory(), upload=picture("a.png"))
    old_files = set(stored_files(media_root))

    with django_capture_on_commit_callbacks(execute=True):
        images.prepare_product_image(product_image, picture("b.png"))
        images.save_product_image(product_image)

    remaining = set(stored_files(media_root))
    assert not old_files & remaining
    assert {p.relative_to(media_root).as_posix() for p in remaining} == {
        product_image.image.name,
        product_image.thumbnail.name,
    }


# --- Through the admin -----------------------------------------------------------------------


def product_form_data(product, **image_fields: object) -> dict:
    return {
        "code": product.code,
        "name": product.name,
        "description": "",
        "category": "",
        "is_active": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-alt_text": "Front view",
        "images-0-position": "0",
        **{f"images-0-{name}": value for name, value in image_fields.items()},
        "skus-TOTAL_FORMS": "0",
        "skus-INITIAL_FORMS": "0",
        "skus-MIN_NUM_FORMS": "0",
        "skus-MAX_NUM_FORMS": "1000",
    }


def test_a_picture_uploaded_in_the_product_admin_gets_its_thumbnail_shown(admin_client):
    product = ProductFactory()
    url = reverse("admin:inventory_product_change", args=[product.pk])

    response = admin_client.post(url, product_form_data(product, image=picture(size=(900, 900))))

    assert response.status_code == 302
    product_image = ProductImage.objects.get(product=product)
    assert thumbnail_of(product_image).size == (400, 400)
    page = admin_client.get(url).content.decode()
    assert f'<img src="{product_image.thumbnail.url}" alt="Front view"' in page


def test_a_product_added_with_a_picture_gets_its_thumbnail(admin_client):
    data = product_form_data(ProductFactory.build(code="rain-jacket"), image=picture())

    response = admin_client.post(reverse("admin:inventory_product_add"), data)

    assert response.status_code == 302
    product_image = ProductImage.objects.get(product__code="rain-jacket")
    assert thumbnail_of(product_image).size == (400, 300)


def test_a_bad_picture_in_the_product_admin_shows_the_reason_and_saves_nothing(
    admin_client, media_root
):
    product = ProductFactory(name="Rain jacket")
    url = reverse("admin:inventory_product_change", args=[product.pk])
    data = product_form_data(product, image=SimpleUploadedFile("x.png", b"not a picture"))
    data["name"] = "Renamed jacket"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "This file is not a picture that can be read" in response.content.decode()
    product.refresh_from_db()
    assert product.name == "Rain jacket"
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_deleting_a_picture_in_the_product_admin_deletes_its_files(
    admin_client, media_root, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    product_image = images.add_product_image(product=product, upload=picture())
    data = product_form_data(product, id=str(product_image.pk), DELETE="on")
    data.update({"images-INITIAL_FORMS": "1", "images-0-product": str(product.pk)})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:inventory_product_change", args=[product.pk]), data
        )

    assert response.status_code == 302
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []
