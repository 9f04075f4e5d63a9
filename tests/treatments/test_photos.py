"""Clinical photos (issue 19): capture, private storage, checked serving."""

import hashlib
import io
import json
import os
import tarfile
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from clinic.models import AuditEvent
from tests.helpers import NOW, photo_file, take_photos
from tests.test_access_matrix import world  # noqa: F401 (a fixture)
from treatments import services
from treatments.models import Photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def photo_root(settings, tmp_path):
    """Each test's photos in a folder of its own, to count what is written."""
    root = tmp_path / "photos"
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "clinic.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def stored_files(root):
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def stored(photo, *, thumbnail=False):
    return Image.open(io.BytesIO(services.photo_bytes(photo, thumbnail=thumbnail)))


# Storage and cleaning


def test_gps_and_device_are_gone_and_the_photo_is_turned_upright(world):  # noqa: F811
    appointment = world["record"].appointment
    upload = photo_file(gps=True, orientation=6, size=(300, 200))
    sent = Image.open(io.BytesIO(upload.read()))
    assert sent.getexif().get_ifd(0x8825)  # the test's photo does carry a location
    upload.seek(0)
    (photo,) = take_photos(appointment, files=[upload])
    image = stored(photo)
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {} and not image.getexif().get_ifd(0x8825)
    assert "exif" not in image.info and "icc_profile" not in image.info
    assert b"Clinic Tablet 9" not in services.photo_bytes(photo)
    # Orientation 6 (turn 90° clockwise): a 300x200 sensor image stands 200x300.
    assert (image.width, image.height) == (photo.width, photo.height) == (200, 300)
    assert photo.sha256 == hashlib.sha256(services.photo_bytes(photo)).hexdigest()
    assert max(stored(photo, thumbnail=True).size) <= 480
    assert (photo.patient, photo.record, photo.phase) == (world["a"], world["record"], "before")


def test_a_png_is_stored_as_a_jpeg(world):  # noqa: F811
    (photo,) = take_photos(world["record"].appointment, files=[photo_file("a.png", fmt="PNG")])
    assert stored(photo).format == "JPEG"


def test_files_live_outside_static_and_have_no_url(world, photo_root):  # noqa: F811
    (photo,) = take_photos(world["record"].appointment)
    assert (photo_root / photo.image_name).is_file()
    with pytest.raises(ValueError, match="no URL"):
        services.photo_storage().url(photo.image_name)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("notes.txt", b"not a photo at all"), "is not a JPEG or PNG image"),
        (photo_file("anim.gif", fmt="GIF"), "is not a JPEG or PNG image"),
        (SimpleUploadedFile("cut.jpg", photo_file().read()[:200]), "is not a JPEG or PNG image"),
        (SimpleUploadedFile("empty.jpg", b""), "is not a JPEG or PNG image"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused(world, photo_root, upload, message):  # noqa: F811
    before = stored_files(photo_root)
    with pytest.raises(ValidationError) as refused:
        take_photos(world["record"].appointment, files=[upload])
    assert message in " ".join(refused.value.messages)
    assert "under 15 MB" in " ".join(refused.value.messages)
    assert Photo.objects.count() == 1 and stored_files(photo_root) == before


def test_an_oversized_photo_is_refused(world, photo_root, settings):  # noqa: F811
    settings.PHOTO_MAX_MB = 1
    before = stored_files(photo_root)
    big = SimpleUploadedFile("big.jpg", os.urandom(1024 * 1024 + 10))
    with pytest.raises(ValidationError, match="big.jpg is over 1 MB"):
        take_photos(world["record"].appointment, files=[photo_file(), big])
    assert Photo.objects.count() == 1 and stored_files(photo_root) == before


def test_a_decompression_bomb_is_refused_before_it_is_decoded(world, settings):  # noqa: F811
    settings.PHOTO_MAX_PIXELS = 10_000
    with pytest.raises(ValidationError, match="more pixels than a photo can have"):
        take_photos(world["record"].appointment, files=[photo_file(size=(200, 100))])


def test_a_failed_database_write_leaves_no_file(world, photo_root, monkeypatch):  # noqa: F811
    def broken(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    before = stored_files(photo_root)
    monkeypatch.setattr(Photo, "save", broken)
    with pytest.raises(RuntimeError):
        take_photos(world["record"].appointment, files=[photo_file(), photo_file()])
    assert stored_files(photo_root) == before


def test_after_photos_need_the_treatment_record(world):  # noqa: F811
    with pytest.raises(ValidationError, match="start the treatment record first"):
        take_photos(world["future"], phase="after", by=world["users"]["practitioner"])
    (photo,) = take_photos(world["future"], phase="before", by=world["users"]["practitioner"])
    assert photo.record is None


def test_review_photos_go_with_the_treatment_reviewed(world):  # noqa: F811
    (photo,) = take_photos(world["future"], phase="review", by=world["users"]["practitioner"])
    assert photo.record == world["signed"]


@pytest.mark.parametrize("persona", ["front_desk", "manager", "patient_a"])
def test_only_practitioners_take_photos(world, persona):  # noqa: F811
    with pytest.raises(ValidationError, match="Only a practitioner"):
        take_photos(world["record"].appointment, by=world["users"][persona])


# Serving


@pytest.mark.parametrize("persona", ["patient_a", "patient_b", "front_desk"])
@pytest.mark.parametrize("name", ["treatments:photo_image", "treatments:photo_thumbnail"])
def test_patients_and_the_front_desk_cannot_fetch_a_photo(client, world, persona, name):  # noqa: F811
    client.force_login(world["users"][persona])
    response = client.get(reverse(name, args=[world["photo"].pk]))
    assert response.status_code in (403, 404)
    assert response.get("Content-Type") != "image/jpeg"
    assert not AuditEvent.objects.filter(what__startswith="photo").exists()


def test_a_practitioners_read_is_audited_and_never_cached(client, world):  # noqa: F811
    photo = world["photo"]
    user = world["users"]["other"]
    client.force_login(user)
    response = client.get(reverse("treatments:photo_image", args=[photo.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content == services.photo_bytes(photo)
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get(what="photo")
    assert (event.user, event.patient, event.object_id) == (user, photo.patient, str(photo.pk))
    client.get(reverse("treatments:photo_thumbnail", args=[photo.pk]))
    assert AuditEvent.objects.filter(what="photo thumbnail", object_id=str(photo.pk)).exists()


def test_uploading_at_the_chair(client, world):  # noqa: F811
    appointment = world["record"].appointment
    client.force_login(world["users"]["practitioner"])
    page = client.get(reverse("treatments:photos", args=[appointment.pk])).content.decode()
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    response = client.post(
        reverse("treatments:photo_upload", args=[appointment.pk]),
        {
            "phase": "before",
            "view": "left_oblique",
            "camera": photo_file("cam.jpg"),
            "files": [photo_file("a.jpg"), photo_file("b.jpg")],
        },
    )
    assert response.status_code == 302
    assert Photo.objects.filter(appointment=appointment, view="left_oblique").count() == 3
    page = client.get(response.url).content.decode()
    assert "3 photos added." in page and "Left oblique" in page


def test_a_bad_upload_says_what_to_do(client, world):  # noqa: F811
    appointment = world["record"].appointment
    client.force_login(world["users"]["practitioner"])
    response = client.post(
        reverse("treatments:photo_upload", args=[appointment.pk]),
        {"phase": "before", "view": "front", "files": [SimpleUploadedFile("x.heic", b"ftyp")]},
    )
    assert response.status_code == 400
    assert "x.heic is not a JPEG or PNG image" in response.content.decode()
    empty = client.post(
        reverse("treatments:photo_upload", args=[appointment.pk]),
        {"phase": "before", "view": "front"},
    )
    assert "Choose a photo" in empty.content.decode()


# The patient's copy, backups, retention


def test_the_data_export_contains_the_photos(client, world):  # noqa: F811
    patient, photo = world["a"], world["photo"]
    client.force_login(patient.user)
    archive = zipfile.ZipFile(io.BytesIO(client.post(reverse("privacy:portal_data")).content))
    listed = json.loads(archive.read("photos.json"))
    (entry,) = [p for p in listed if p["photo"] == photo.pk]
    assert archive.read(entry["file"]) == services.photo_bytes(photo)
    assert entry["sha256"] == photo.sha256
    rows = {row["pk"]: row["fields"] for row in json.loads(archive.read("photo_records.json"))}
    assert rows[photo.pk]["view"] == "front"
    assert entry["file"] in archive.read("index.html").decode()


def test_a_backup_carries_the_photos_and_a_restore_brings_them_back(world, tmp_path):  # noqa: F811
    from clinic import backup

    photo = world["photo"]
    original = services.photo_bytes(photo)
    path = tmp_path / "backup.sqlite3"
    archive = backup.photos_backup(path)
    with tarfile.open(archive) as tar:
        assert photo.image_name in tar.getnames()
    services.photo_storage().delete(photo.image_name)
    backup.photos_restore(path)
    assert services.photo_bytes(photo) == original


def test_the_retention_purge_deletes_the_photo_files(
    world,  # noqa: F811
    photo_root,
    django_capture_on_commit_callbacks,
):
    from clinic.privacy.retention import patient_purge

    assert stored_files(photo_root)
    with django_capture_on_commit_callbacks(execute=True):
        patient_purge(patient=world["a"], now=NOW)
    assert not Photo.objects.exists() and stored_files(photo_root) == []
