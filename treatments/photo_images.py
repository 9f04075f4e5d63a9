"""Checking and cleaning a clinical photograph with Pillow (issue 19).

A photo taken at the chair may carry where it was taken (GPS) and on what
device in its EXIF. We keep none of it: the upload is verified as a JPEG or
PNG, turned the way the camera says (EXIF orientation), then re-encoded as a
fresh JPEG with no metadata at all. A smaller copy is made for the chart.
A file with more pixels than a photo can have (a decompression bomb) is
refused before it is decoded.
"""

import contextlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from clinic.refusals import Refusal

FORMATS = {"JPEG", "MPO", "PNG"}  # MPO: the JPEG some phone cameras write
LONGEST_SIDE = 4096
THUMBNAIL_SIDE = 480
QUALITY = 90

PHOTO_MISSING = Refusal(
    "photo_missing", "Choose a photo: take one with the camera or pick a file.", field="files"
)
PHOTO_TOO_LARGE = Refusal(
    "photo_too_large",
    "%(name)s is over %(mb)s MB. Photos must be JPEG or PNG images under %(mb)s MB: "
    "take it again at a lower resolution, or export a smaller copy.",
    field="files",
)
PHOTO_WRONG_TYPE = Refusal(
    "photo_wrong_type",
    "%(name)s is not a JPEG or PNG image. Photos must be JPEG or PNG images under %(mb)s MB "
    "(not HEIC: on an iPhone choose Settings > Camera > Formats > Most Compatible, or take "
    "the photo with the Take a photo button, which sends a JPEG).",
    field="files",
)
PHOTO_TOO_MANY_PIXELS = Refusal(
    "photo_too_many_pixels",
    "%(name)s has more pixels than a photo can have (%(pixels)s million). Upload the photo "
    "as the camera took it.",
    field="files",
)
PHOTO_TOO_MANY_FILES = Refusal(
    "photo_too_many_files",
    "Upload at most %(most)s photos at once.",
    field="files",
)


@dataclass(frozen=True)
class CleanPhoto:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int


def _max_bytes():
    return settings.PHOTO_MAX_MB * 1024 * 1024


def _open(data: bytes, name: str):
    params = {"name": name, "mb": settings.PHOTO_MAX_MB}
    with warnings.catch_warnings():
        # Pillow warns past MAX_IMAGE_PIXELS and refuses at twice that; we
        # refuse at our own limit, before anything is decoded.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise PHOTO_WRONG_TYPE.error(**params)
            width, height = image.size
            if width * height > settings.PHOTO_MAX_PIXELS:
                raise PHOTO_TOO_MANY_PIXELS.error(
                    name=name, pixels=round(width * height / 1_000_000)
                )
            image.verify()  # the whole file, structurally
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PHOTO_TOO_MANY_PIXELS.error(name=name, pixels="too many") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise PHOTO_WRONG_TYPE.error(**params) from None
    return image


def _jpeg(image, **options) -> bytes:
    buffer = io.BytesIO()
    # No exif=, icc_profile= or comment: the new file carries no metadata.
    image.save(buffer, "JPEG", quality=QUALITY, optimize=True, **options)
    return buffer.getvalue()


def photo_clean(data: bytes, *, name: str) -> CleanPhoto:
    """The cleaned JPEG and its thumbnail, or ValidationError saying what to do."""
    if len(data) > _max_bytes():
        raise PHOTO_TOO_LARGE.error(name=name, mb=settings.PHOTO_MAX_MB)
    if not data:
        raise PHOTO_WRONG_TYPE.error(name=name, mb=settings.PHOTO_MAX_MB)
    image = _open(data, name)
    with contextlib.suppress(OSError, ValueError, SyntaxError):  # an unreadable tag
        image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return CleanPhoto(
        jpeg=_jpeg(image), thumbnail=_jpeg(small), width=image.width, height=image.height
    )
