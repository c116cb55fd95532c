"""An uploaded product picture is stored under a random name with the extension of the image
format found inside it, and media are served with that format's type and ``nosniff``, so an
HTML page dressed as a picture is never served as a page (issue 9 #11)."""

import io
import re
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

SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture_bytes(fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(buffer, format=fmt)
    return buffer.getvalue()


def polyglot(name: str = "x.html") -> SimpleUploadedFile:
    """A sound PNG followed by an HTML page: a picture to Pillow, a page to a sniffing browser."""
    return SimpleUploadedFile(name, picture_bytes("PNG") + SCRIPT, content_type="text/html")


def fetch(client, url: str):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


# --- Stored names ----------------------------------------------------------------------------


def test_a_polyglot_named_html_is_stored_under_a_random_name_with_the_png_extension():
    product_image = images.add_product_image(product=ProductFactory(), upload=polyglot("x.html"))

    name = product_image.image.name
    assert re.fullmatch(r"products/[0-9a-f]{32}\.png", name), name
    stem = Path(name).stem
    assert product_image.thumbnail.name == f"products/thumbnails/{stem}.webp"


def test_the_extension_comes_from_the_format_inside_not_from_the_name():
    upload = SimpleUploadedFile("holiday.png", picture_bytes("JPEG"))

    product_image = images.add_product_image(product=ProductFactory(), upload=upload)

    assert product_image.image.name.endswith(".jpg")
    assert "holiday" not in product_image.image.name


def test_two_uploads_of_the_same_name_get_different_names():
    product = ProductFactory()

    first = images.add_product_image(product=product, upload=polyglot("front.png"))
    second = images.add_product_image(product=product, upload=polyglot("front.png"), position=1)

    assert first.image.name != second.image.name


def test_a_polyglot_uploaded_in_the_product_admin_is_stored_as_png(admin_client):
    product = ProductFactory()
    data = {
        "code": product.code,
        "name": product.name,
        "description": "",
        "category": "",
        "is_active": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-alt_text": "Front",
        "images-0-position": "0",
        "images-0-image": polyglot("x.html"),
        "skus-TOTAL_FORMS": "0",
        "skus-INITIAL_FORMS": "0",
        "skus-MIN_NUM_FORMS": "0",
        "skus-MAX_NUM_FORMS": "1000",
    }

    response = admin_client.post(reverse("admin:inventory_product_change", args=[product.pk]), data)

    assert response.status_code == 302
    stored = ProductImage.objects.get(product=product)
    assert re.fullmatch(r"products/[0-9a-f]{32}\.png", stored.image.name)
    assert stored.thumbnail.name.endswith(".webp")


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(SimpleUploadedFile("x.html", SCRIPT), id="html-page"),
        pytest.param(SimpleUploadedFile("photo.png", SCRIPT), id="html-named-png"),
        pytest.param(
            SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>'), id="svg"
        ),
    ],
)
def test_a_file_that_is_not_an_allowed_image_is_refused_and_nothing_is_stored(upload, media_root):
    with pytest.raises(ValidationError):
        images.add_product_image(product=ProductFactory(), upload=upload)

    assert not ProductImage.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


# --- Serving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_the_stored_polyglot_is_served_as_png_with_nosniff(client, settings, debug):
    settings.DEBUG = debug
    product_image = images.add_product_image(product=ProductFactory(), upload=polyglot())

    response, body = fetch(client, product_image.image.url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert body.startswith(b"\x89PNG")


def test_the_thumbnail_is_served_as_webp(client):
    product_image = images.add_product_image(product=ProductFactory(), upload=polyglot())

    response, _ = fetch(client, product_image.thumbnail.url)

    assert (response.status_code, response["Content-Type"]) == (200, "image/webp")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_stored_before_with_another_extension_is_not_served(client, media_root):
    legacy = media_root / "products" / "x.html"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(picture_bytes("PNG") + SCRIPT)

    response = client.get("/media/products/x.html")

    assert response.status_code == 404
    assert SCRIPT not in response.content


def test_nothing_outside_the_media_folder_is_served(client, media_root, tmp_path):
    (tmp_path / "secret.png").write_bytes(picture_bytes("PNG"))
    media_root.mkdir()

    response = client.get("/media/../secret.png")

    assert response.status_code == 404


def test_a_missing_file_is_a_404(client):
    assert client.get("/media/products/0123456789abcdef0123456789abcdef.png").status_code == 404
