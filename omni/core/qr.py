"""QR codes as PNG images (drawn by Pillow), for loyalty cards and pick-up codes."""

import io

import qrcode
from qrcode.image.pil import PilImage


def qr_png(text: str, *, box_size: int = 10) -> bytes:
    """A PNG of ``text`` as a QR code with the standard quiet zone, readable by till scanners."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
