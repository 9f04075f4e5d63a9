"""Writing clinical photographs (issue 19).

`photo_upload` checks every file first (treatments.photo_images: type, size,
pixels; EXIF stripped), then writes the files to the private `photos`
storage and the rows in one transaction. Should the rows fail, the files it
wrote are deleted again, so a refusal or a crash leaves no photo without a
row. The one thing it cannot see is a caller's own transaction rolling back
later: services are called outside one (views are not atomic)."""

import hashlib
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from bookings.models import Appointment
from clinic.refusals import Refusal
from treatments.models.photos import Photo
from treatments.models.records import TreatmentRecord
from treatments.photo_images import PHOTO_MISSING, PHOTO_TOO_MANY_FILES, photo_clean

MOST_AT_ONCE = 12

PHOTO_NOT_ALLOWED = Refusal(
    "photo_not_allowed", "Only a practitioner takes clinical photos. Ask the practitioner."
)
PHOTO_APPOINTMENT_CLOSED = Refusal(
    "photo_appointment_closed",
    "This appointment was %(status)s, so no photos can be added to it.",
)
PHOTO_AFTER_NEEDS_RECORD = Refusal(
    "photo_after_needs_record",
    "After photos go with the treatment: start the treatment record first, then add them.",
    field="phase",
)
PHOTO_CHOICE = Refusal(
    "photo_choice", "Choose when the photo was taken and which view it shows.", field="phase"
)


def photo_storage():
    return storages["photos"]


def _record_for(appointment, phase):
    """The treatment the photo shows: this visit's, or for a review the
    patient's latest signed one before it."""
    own = TreatmentRecord.objects.filter(appointment=appointment).first()
    if own is not None or phase != Photo.Phase.REVIEW:
        return own
    return (
        TreatmentRecord.objects.filter(
            patient_id=appointment.patient_id,
            status=TreatmentRecord.Status.SIGNED,
            started_at__lt=appointment.starts_at,
        )
        .order_by("-started_at")
        .first()
    )


def photo_upload(
    *,
    appointment: Appointment,
    phase: str,
    view: str,
    files: Sequence,
    by,
    now=None,
) -> list[Photo]:
    """Store `files` (uploaded files, or anything with .read() and .name) as
    photos of `appointment` in one phase and view."""
    now = now or timezone.now()
    if not by.has_perm("treatments.add_photo"):
        raise PHOTO_NOT_ALLOWED.error()
    if appointment.status not in Appointment.ACTIVE:
        raise PHOTO_APPOINTMENT_CLOSED.error(status=appointment.get_status_display().lower())
    if phase not in Photo.Phase.values or view not in Photo.View.values:
        raise PHOTO_CHOICE.error()
    files = [f for f in files if f is not None]
    if not files:
        raise PHOTO_MISSING.error()
    if len(files) > MOST_AT_ONCE:
        raise PHOTO_TOO_MANY_FILES.error(most=MOST_AT_ONCE)
    record = _record_for(appointment, phase)
    if phase == Photo.Phase.AFTER and record is None:
        raise PHOTO_AFTER_NEEDS_RECORD.error()
    cleaned = [photo_clean(_read(f), name=_name(f)) for f in files]
    storage = photo_storage()
    written = []
    try:
        photos = []
        for clean in cleaned:
            stem = f"patients/{appointment.patient_id}/{uuid.uuid4().hex}"
            image = storage.save(f"{stem}.jpg", ContentFile(clean.jpeg))
            written.append(image)
            thumbnail = storage.save(f"{stem}-thumb.jpg", ContentFile(clean.thumbnail))
            written.append(thumbnail)
            photos.append(
                Photo(
                    patient_id=appointment.patient_id,
                    appointment=appointment,
                    record=record,
                    phase=phase,
                    view=view,
                    image_name=image,
                    thumbnail_name=thumbnail,
                    sha256=hashlib.sha256(clean.jpeg).hexdigest(),
                    width=clean.width,
                    height=clean.height,
                    size_bytes=len(clean.jpeg),
                    taken_at=now,
                    taken_by=by,
                )
            )
        with transaction.atomic():
            for photo in photos:
                photo.full_clean(exclude=["patient", "appointment", "record", "taken_by"])
                photo.save()
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return photos


def _read(upload) -> bytes:
    # Read one byte past the limit: enough to know it is too large.
    limit = settings.PHOTO_MAX_MB * 1024 * 1024 + 1
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload.read(limit)


def _name(upload) -> str:
    return str(getattr(upload, "name", "") or "The photo")[:80]


def photo_bytes(photo: Photo, *, thumbnail: bool = False) -> bytes:
    with photo_storage().open(photo.thumbnail_name if thumbnail else photo.image_name) as f:
        return f.read()
