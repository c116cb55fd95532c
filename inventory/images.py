"""Product pictures: refusing uploads that are not sound, reasonably sized JPEG, PNG or WebP
images, storing them under a random name with the extension of the format found inside (never
the uploader's name or extension), and making the thumbnail that every channel shows, with
nothing half-saved."""

import io
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps

from inventory.models import ProductImage

# Pillow's format name -> the stored file's extension and the type it is served with. Only
# these are accepted, and media are served only with these extensions (``omni.media``).
ACCEPTED_FORMATS = {
    "JPEG": (".jpg", "image/jpeg"),
    "PNG": (".png", "image/png"),
    "WEBP": (".webp", "image/webp"),
}
MEDIA_TYPES = {
    **dict(ACCEPTED_FORMATS.values()),
    ".jpeg": "image/jpeg",  # names kept from uploads made before names were random
}
THUMBNAIL_BOX = (400, 400)
THUMBNAIL_FORMAT = "WEBP"
THUMBNAIL_QUALITY = 85


def check_product_image(upload: File) -> str:
    """Refuse anything but a JPEG, PNG or WebP picture within the byte and pixel limits, and
    return its format (Pillow's name, e.g. "PNG").

    Only the header is parsed and the file's structure verified here, so a decompression bomb
    is refused before a single pixel is decoded. Raises ``ValidationError`` with a message
    for the person who uploaded it.
    """
    limit = settings.MAX_PRODUCT_IMAGE_BYTES
    if upload.size > limit:
        raise ValidationError(
            "The file is %(size)s; a product image may be at most %(limit)s.",
            code="file_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
        )
    with _reading(upload), Image.open(upload) as image:
        if image.format not in ACCEPTED_FORMATS:
            raise ValidationError(
                "%(format)s images are not accepted; upload a JPEG, PNG or WebP picture.",
                code="unsupported_format",
                params={"format": image.format or "This kind of"},
            )
        _check_pixels(*image.size)
        image.verify()
        return image.format


def name_for_storage(upload: File, image_format: str) -> None:
    """Give a checked upload a random name with its format's extension before it is stored.

    The uploader's name and extension say nothing trustworthy (a PNG followed by an HTML page
    passes as a PNG, and ``x.html`` would be served as a page); the stored name reveals
    nothing about the uploader's files and cannot collide."""
    extension, _ = ACCEPTED_FORMATS[image_format]
    upload.name = f"{uuid.uuid4().hex}{extension}"


def make_thumbnail(upload: File) -> ContentFile:
    """A WebP thumbnail that fits in 400 by 400 pixels, keeps the aspect ratio and stands the
    right way up (EXIF orientation applied). Decodes the picture: check it first."""
    with _reading(upload), Image.open(upload) as image:
        _check_pixels(*image.size)
        # JPEG can decode at a fraction of its size: far less memory for a big photo.
        image.draft("RGB", THUMBNAIL_BOX)
        picture = ImageOps.exif_transpose(image)
        has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
        picture = picture.convert("RGBA" if has_alpha else "RGB")
        picture.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, format=THUMBNAIL_FORMAT, quality=THUMBNAIL_QUALITY)
    return ContentFile(buffer.getvalue(), name=f"{PurePath(upload.name or '').stem}.webp")


def prepare_product_image(product_image: ProductImage, upload: File) -> None:
    """Check an upload, name it for storage and set it, with its new thumbnail (same random
    stem), on an unsaved ProductImage."""
    name_for_storage(upload, check_product_image(upload))
    product_image.thumbnail = make_thumbnail(upload)
    product_image.image = upload


def save_product_image(product_image: ProductImage) -> ProductImage:
    """Save the row and write its new files together.

    If the row cannot be saved, the files this save wrote are deleted again; when a picture is
    replaced, the old files are deleted once the transaction commits.
    """
    new_files = [f for f in (product_image.image, product_image.thumbnail) if _is_unwritten(f)]
    old_names = _stored_names(product_image) if new_files else []
    try:
        with transaction.atomic():
            product_image.save()
    except BaseException:
        for field_file in new_files:
            if field_file.name and not _is_unwritten(field_file):
                field_file.storage.delete(field_file.name)
        raise
    current = {product_image.image.name, product_image.thumbnail.name}
    _delete_on_commit([name for name in old_names if name not in current])
    return product_image


def add_product_image(
    *, product, upload: File, alt_text: str = "", position: int = 0
) -> ProductImage:
    """Check, thumbnail and store a new picture of a product (raises ``ValidationError``)."""
    product_image = ProductImage(product=product, alt_text=alt_text, position=position)
    prepare_product_image(product_image, upload)
    return save_product_image(product_image)


def delete_product_image(product_image: ProductImage) -> None:
    """Delete the row, then its files once the deletion is committed."""
    names = [f.name for f in (product_image.image, product_image.thumbnail) if f.name]
    product_image.delete()
    _delete_on_commit(names)


# --- Internals -------------------------------------------------------------------------------


@contextmanager
def _reading(upload: File) -> Iterator[None]:
    """Let Pillow read the upload from its start; whatever Pillow chokes on becomes one clear
    ValidationError, and its decompression-bomb warning is treated as the refusal it is."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "The picture has far too many pixels; a product image may have at most "
            "%(limit)s megapixels.",
            code="too_many_pixels",
            params={"limit": _megapixels(settings.MAX_PRODUCT_IMAGE_PIXELS)},
        ) from None
    except Exception as error:
        # Pillow raises many kinds of errors on malformed files (OSError, SyntaxError,
        # struct.error, ValueError...): for an upload they all mean "not a usable picture".
        raise ValidationError(
            "This file is not a picture that can be read; upload a JPEG, PNG or WebP image.",
            code="invalid_image",
        ) from error
    finally:
        upload.seek(0)


def _check_pixels(width: int, height: int) -> None:
    limit = settings.MAX_PRODUCT_IMAGE_PIXELS
    if width * height > limit:
        raise ValidationError(
            "The picture is %(width)s x %(height)s pixels (%(pixels)s megapixels); a product "
            "image may have at most %(limit)s megapixels.",
            code="too_many_pixels",
            params={
                "width": width,
                "height": height,
                "pixels": _megapixels(width * height),
                "limit": _megapixels(limit),
            },
        )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.3g}"


def _is_unwritten(field_file: FieldFile) -> bool:
    # Django marks a file assigned but not yet written to storage as not committed.
    # (django-stubs leave that private flag out.)
    return bool(field_file) and not field_file._committed  # type: ignore[attr-defined]


def _stored_names(product_image: ProductImage) -> list[str]:
    if product_image.pk is None:
        return []
    row = ProductImage.objects.filter(pk=product_image.pk).values("image", "thumbnail").first()
    if row is None:
        return []
    return [name for name in (row["image"], row["thumbnail"]) if name]


def _delete_on_commit(names: list[str]) -> None:
    storage = ProductImage._meta.get_field("image").storage

    def delete_files() -> None:
        for name in names:
            storage.delete(name)

    if names:
        transaction.on_commit(delete_files)
