"""Checking a drawn signature sent by the browser, with Pillow.

The signing page sends the pad's drawing as a PNG data URL. We keep exactly
those bytes as evidence, after checking they are a real PNG of sensible size
with enough ink on it: a blank pad, a dot, a giant image or something that is
not a PNG at all is refused with a message that says what to do.
"""

import base64
import binascii
import io

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

PREFIX = "data:image/png;base64,"
MAX_BYTES = 300_000
MAX_SIDE = 4000
MIN_SIDE = 50
MIN_INK_PIXELS = 150  # a signature, not a tap on the pad
MAX_INK_SHARE = 0.4  # a signature is lines: a pad painted over is not one
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SIGNATURE_MISSING = "Draw your signature in the box (with a finger, a pen or the mouse)."
SIGNATURE_INVALID = "The signature could not be read. Clear the box and draw it again."
SIGNATURE_TOO_LARGE = "The signature image is too large. Clear the box and draw it again."
SIGNATURE_BLANK = (
    "The signature box looks empty or has only a dot. Draw your full signature in the box."
)
SIGNATURE_FILLED = (
    "The signature box looks filled in rather than signed. Clear the box and draw your "
    "signature with a line."
)


def signature_png(data_url: str) -> bytes:
    """The PNG bytes of a drawn signature, or ValidationError."""
    data_url = (data_url or "").strip()
    if not data_url:
        raise ValidationError(SIGNATURE_MISSING, code="signature_missing")
    if not data_url.startswith(PREFIX):
        raise ValidationError(SIGNATURE_INVALID, code="signature_invalid")
    encoded = data_url[len(PREFIX) :]
    if len(encoded) > MAX_BYTES * 4 // 3 + 4:
        raise ValidationError(SIGNATURE_TOO_LARGE, code="signature_too_large")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(SIGNATURE_INVALID, code="signature_invalid") from None
    if len(raw) > MAX_BYTES:
        raise ValidationError(SIGNATURE_TOO_LARGE, code="signature_too_large")
    if not _png_ends_at_iend(raw):
        # Bytes hidden after the image would be kept as "evidence" unseen.
        raise ValidationError(SIGNATURE_INVALID, code="signature_invalid")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValidationError(SIGNATURE_INVALID, code="signature_invalid")
            width, height = image.size
            if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                raise ValidationError(SIGNATURE_INVALID, code="signature_invalid")
            image.load()
            ink = _ink_pixels(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(SIGNATURE_INVALID, code="signature_invalid") from None
    if ink < MIN_INK_PIXELS:
        raise ValidationError(SIGNATURE_BLANK, code="signature_blank")
    if ink > MAX_INK_SHARE * width * height:
        raise ValidationError(SIGNATURE_FILLED, code="signature_filled")
    return raw


def _png_ends_at_iend(raw: bytes) -> bool:
    """True when `raw` is PNG chunks from the signature to IEND and nothing after."""
    if not raw.startswith(PNG_MAGIC):
        return False
    offset = len(PNG_MAGIC)
    while offset + 12 <= len(raw):
        length = int.from_bytes(raw[offset : offset + 4], "big")
        kind = raw[offset + 4 : offset + 8]
        offset += 12 + length
        if kind == b"IEND":
            return offset == len(raw)
    return False


def _ink_pixels(image):
    """Pixels that carry ink: opaque ones on a transparent pad, dark ones on an
    opaque background."""
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A").histogram()
    transparent = alpha[0]
    total = rgba.width * rgba.height
    if transparent > total // 2:
        return total - transparent
    grey = rgba.convert("L").histogram()
    return sum(grey[:160])
