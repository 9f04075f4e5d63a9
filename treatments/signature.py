"""Checking a drawn signature sent by the browser, with Pillow.

The signing page sends the pad's drawing as a PNG data URL. We keep exactly
those bytes as evidence, after checking they are a real PNG of sensible size
with enough ink on it: a blank pad, a dot, a giant image or something that is
not a PNG at all is refused with a message that says what to do.
"""

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

from clinic.refusals import Refusal

PREFIX = "data:image/png;base64,"
MAX_BYTES = 300_000
MAX_SIDE = 4000
MIN_SIDE = 50
MIN_INK_PIXELS = 150  # a signature, not a tap on the pad
MAX_INK_SHARE = 0.4  # a signature is lines: a pad painted over is not one
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SIGNATURE_MISSING = Refusal(
    "signature_missing",
    "Draw your signature in the box (with a finger, a pen or the mouse).",
)
SIGNATURE_INVALID = Refusal(
    "signature_invalid",
    "The signature could not be read. Clear the box and draw it again.",
)
SIGNATURE_TOO_LARGE = Refusal(
    "signature_too_large",
    "The signature image is too large. Clear the box and draw it again.",
)
SIGNATURE_BLANK = Refusal(
    "signature_blank",
    "The signature box looks empty or has only a dot. Draw your full signature in the box.",
)
SIGNATURE_FILLED = Refusal(
    "signature_filled",
    "The signature box looks filled in rather than signed. Clear the box and draw your "
    "signature with a line.",
)


def signature_png(data_url: str) -> bytes:
    """The PNG bytes of a drawn signature, or ValidationError."""
    data_url = (data_url or "").strip()
    if not data_url:
        raise SIGNATURE_MISSING.error()
    if not data_url.startswith(PREFIX):
        raise SIGNATURE_INVALID.error()
    encoded = data_url[len(PREFIX) :]
    if len(encoded) > MAX_BYTES * 4 // 3 + 4:
        raise SIGNATURE_TOO_LARGE.error()
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SIGNATURE_INVALID.error() from None
    if len(raw) > MAX_BYTES:
        raise SIGNATURE_TOO_LARGE.error()
    if not _png_ends_at_iend(raw):
        # Bytes hidden after the image would be kept as "evidence" unseen.
        raise SIGNATURE_INVALID.error()
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise SIGNATURE_INVALID.error()
            width, height = image.size
            if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                raise SIGNATURE_INVALID.error()
            image.load()
            ink = _ink_pixels(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise SIGNATURE_INVALID.error() from None
    if ink < MIN_INK_PIXELS:
        raise SIGNATURE_BLANK.error()
    if ink > MAX_INK_SHARE * width * height:
        raise SIGNATURE_FILLED.error()
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
