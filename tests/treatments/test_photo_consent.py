"""Photo consent (issue 19): separate from treatment consent, versioned and
signed like it; what may be shown where follows it; a withdrawal leaves the
clinical record only."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from clinic.db import RecordIsFinal
from clinic.models import AuditEvent
from tests.helpers import NOW, drawn_signature
from tests.test_access_matrix import world  # noqa: F401 (a fixture)
from tests.treatments.test_photos import photo_root  # noqa: F401 (a fixture)
from treatments import services
from treatments.models import Marketing, Photo, PhotoConsent, PhotoConsentForm, Use

pytestmark = pytest.mark.django_db


def sign(patient, *, training=False, marketing=Marketing.NO, now=NOW, **changes):
    fields = {
        "patient": patient,
        "form": PhotoConsentForm.objects.current(),
        "training": training,
        "marketing": marketing,
        "typed_name": patient.full_name,
        "agreed": True,
        "signature": drawn_signature(),
        "ip_address": "127.0.0.1",
        "user_agent": "tests",
        "via": PhotoConsent.Via.PORTAL,
        "now": now,
    }
    return services.photo_consent_sign(**{**fields, **changes})


def shown_for(use, **kwargs):
    return set(Photo.objects.shown().for_use(use, **kwargs))


# Signing


def test_a_signed_photo_consent_keeps_the_evidence(world):  # noqa: F811
    consent = sign(world["a"], training=True, marketing=Marketing.ANONYMISED)
    assert consent.verify() and consent.form.version == 1
    assert consent.statement == (
        "I agree that photos of me taken by the clinic may be used for my clinical record, "
        "teaching and training clinicians and the clinic's marketing, anonymised."
    )
    assert consent.statement in consent.text_shown and consent.form.body in consent.text_shown
    assert bytes(consent.signature_png).startswith(b"\x89PNG")
    with pytest.raises(RecordIsFinal):
        consent.save()


def test_record_only_says_so(client, world):  # noqa: F811
    assert sign(world["a"]).statement.endswith("for my clinical record only.")
    sign(world["a"], training=True, marketing=Marketing.IDENTIFIABLE)
    client.force_login(world["users"]["practitioner"])
    page = client.get(reverse("treatments:photos", args=[world["photo"].appointment_id]))
    assert "Photo consent: clinical record; teaching; marketing, may be recognised" in (
        page.content.decode()
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"agreed": False}, "not_agreed"),
        ({"typed_name": "Someone Else"}, "name_mismatch"),
        ({"signature": ""}, "signature_missing"),
        ({"marketing": "everywhere"}, "photo_consent_choice"),
    ],
)
def test_a_bad_signature_is_refused(world, changes, code):  # noqa: F811
    with pytest.raises(ValidationError) as refused:
        sign(world["a"], **changes)
    assert refused.value.error_list[0].code == code
    assert not PhotoConsent.objects.exists()


def test_an_old_version_of_the_form_cannot_be_signed(world):  # noqa: F811
    old = PhotoConsentForm.objects.current()
    PhotoConsentForm.objects.create(version=2, title=old.title, body=old.body + " More.")
    with pytest.raises(ValidationError, match="updated the photo consent form"):
        sign(world["a"], form=old)
    assert sign(world["a"]).form.version == 2


# What may be shown where


def test_without_consent_photos_serve_the_clinical_record_only(world):  # noqa: F811
    photo = world["photo"]
    assert shown_for(Use.RECORD) == {photo}
    assert shown_for(Use.TRAINING) == shown_for(Use.MARKETING) == set()


def test_each_use_follows_the_choice(world):  # noqa: F811
    photo = world["photo"]
    sign(world["a"], training=True)
    assert shown_for(Use.TRAINING) == {photo} and shown_for(Use.MARKETING) == set()
    sign(world["a"], marketing=Marketing.ANONYMISED)  # a new choice replaces the last
    assert shown_for(Use.TRAINING) == set() and shown_for(Use.MARKETING) == {photo}
    assert shown_for(Use.MARKETING, identifiable=True) == set()
    sign(world["a"], marketing=Marketing.IDENTIFIABLE)
    assert shown_for(Use.MARKETING, identifiable=True) == {photo}


def test_a_photo_with_marketing_consent_withdrawn_appears_only_in_the_clinical_record(
    client,
    world,  # noqa: F811
):
    photo, patient = world["photo"], world["a"]
    sign(patient, training=True, marketing=Marketing.IDENTIFIABLE)
    client.force_login(world["users"]["manager"])
    library = reverse("treatments:photo_library")
    thumbnail = reverse("treatments:photo_thumbnail", args=[photo.pk])
    assert thumbnail in client.get(library + "?use=marketing").content.decode()

    withdrawal = services.photo_consent_withdraw(
        patient=patient, reason="Phoned on 26 November", by=world["users"]["practitioner"]
    )
    assert withdrawal.verify() and withdrawal.supersedes.marketing == Marketing.IDENTIFIABLE
    for use in (Use.TRAINING, Use.MARKETING):
        assert photo not in shown_for(use)
        assert thumbnail not in client.get(f"{library}?use={use}").content.decode()
    assert photo not in shown_for(Use.MARKETING, identifiable=True)
    # The clinical record keeps it: the visit's photos, the comparison, the record.
    assert photo in shown_for(Use.RECORD)
    for page in [
        reverse("treatments:photos", args=[photo.appointment_id]),
        reverse("treatments:photo_compare", args=[patient.pk]),
        world["record"].get_absolute_url(),
    ]:
        assert thumbnail in client.get(page).content.decode(), page


def test_a_withdrawal_needs_a_signed_consent_and_a_reason(world):  # noqa: F811
    patient, by = world["a"], world["users"]["practitioner"]
    with pytest.raises(ValidationError, match="no signed photo consent"):
        services.photo_consent_withdraw(patient=patient, reason="x", by=by)
    sign(patient, training=True)
    with pytest.raises(ValidationError, match="Say how the patient withdrew it"):
        services.photo_consent_withdraw(patient=patient, reason=" ", by=by)
    on_portal = services.photo_consent_withdraw(
        patient=patient, reason="", by=patient.user, via=PhotoConsent.Via.PORTAL
    )
    assert on_portal.reason == "Withdrawn by the patient on the portal."
    with pytest.raises(ValidationError, match="no signed photo consent"):
        services.photo_consent_withdraw(patient=patient, reason="again", by=by)


def test_photo_consents_are_append_only_in_the_database(world):  # noqa: F811
    sign(world["a"], training=True)
    with pytest.raises(RecordIsFinal):
        PhotoConsent.objects.update(training=False)
    with pytest.raises(RecordIsFinal):
        PhotoConsentForm.objects.all().delete()


def test_the_database_refuses_to_rewrite_a_photo_consent(world):  # noqa: F811
    from django.db import IntegrityError, connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's trigger; SQLite has the app's guard")
    consent = sign(world["a"], training=True)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE treatments_photoconsent SET training = false WHERE id = %s", [consent.pk]
        )


# Pages


def test_the_patient_signs_and_withdraws_on_the_portal(client, world):  # noqa: F811
    patient = world["a"]
    client.force_login(patient.user)
    url = reverse("treatments:portal_photo_consent")
    page = client.get(url).content.decode()
    assert "clinical record only" in page and PhotoConsentForm.objects.current().title in page
    response = client.post(
        url,
        {
            "form_version": PhotoConsentForm.objects.current().pk,
            "training": "on",
            "marketing": "anonymised",
            "agreed": "on",
            "typed_name": patient.full_name,
            "signature": drawn_signature(),
        },
    )
    assert response.status_code == 302
    consent = PhotoConsent.objects.get(patient=patient)
    assert (consent.training, consent.marketing, consent.via) == (True, "anonymised", "portal")
    response = client.post(reverse("treatments:portal_photo_consent_withdraw"), {"reason": ""})
    assert response.status_code == 302
    assert PhotoConsent.objects.latest_for(patient).kind == PhotoConsent.Kind.WITHDRAWN


def test_a_refused_signature_says_what_to_fix(client, world):  # noqa: F811
    client.force_login(world["a"].user)
    response = client.post(
        reverse("treatments:portal_photo_consent"),
        {
            "form_version": PhotoConsentForm.objects.current().pk,
            "marketing": "no",
            "agreed": "on",
            "typed_name": "Not Me",
            "signature": drawn_signature(),
        },
    )
    assert response.status_code == 400
    assert "does not match the name the clinic has" in response.content.decode()


def test_at_the_clinic_the_patient_signs_on_the_practitioners_tablet(client, world):  # noqa: F811
    patient, user = world["a"], world["users"]["practitioner"]
    client.force_login(user)
    url = reverse("treatments:photo_consent", args=[patient.pk])
    assert client.get(url).status_code == 200
    assert AuditEvent.objects.filter(what="photo consent", patient=patient).exists()
    client.post(
        url,
        {
            "form_version": PhotoConsentForm.objects.current().pk,
            "marketing": "no",
            "training": "on",
            "agreed": "on",
            "typed_name": patient.full_name,
            "signature": drawn_signature(),
        },
    )
    consent = PhotoConsent.objects.get(patient=patient)
    assert (consent.via, consent.recorded_by) == ("clinic", user)
    refused = client.post(
        reverse("treatments:photo_consent_withdraw", args=[patient.pk]), {"reason": ""}
    )
    assert refused.status_code == 400
    assert "Give a reason" in refused.content.decode()
    client.post(
        reverse("treatments:photo_consent_withdraw", args=[patient.pk]),
        {"reason": "Told the practitioner"},
    )
    page = client.get(url).content.decode()
    assert "Told the practitioner" in page and "clinical record only" in page


def test_the_library_names_no_patient(client, world):  # noqa: F811
    sign(world["a"], marketing=Marketing.ANONYMISED)
    client.force_login(world["users"]["manager"])
    page = client.get(reverse("treatments:photo_library") + "?use=marketing").content.decode()
    assert 'id="library-' in page and "anonymise first" in page
    assert world["a"].full_name not in page
    assert AuditEvent.objects.filter(what="photo library", object_id="marketing").exists()


def test_the_export_and_the_purge_carry_the_photo_consent(
    client,
    world,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    import io
    import json
    import zipfile

    from clinic.privacy.retention import patient_purge

    patient = world["a"]
    sign(patient, training=True)
    sign(patient, marketing=Marketing.ANONYMISED)
    services.photo_consent_withdraw(patient=patient, reason="Phoned", by=patient.user)
    client.force_login(patient.user)
    archive = zipfile.ZipFile(io.BytesIO(client.post(reverse("privacy:portal_data")).content))
    rows = json.loads(archive.read("photo_consents.json"))
    assert [row["fields"]["kind"] for row in rows] == ["signed", "signed", "withdrawn"]
    drawn = [s for s in json.loads(archive.read("signatures.json")) if "photo_consent" in s]
    assert len(drawn) == 2 and archive.read(drawn[0]["file"]).startswith(b"\x89PNG")
    with django_capture_on_commit_callbacks(execute=True):
        patient_purge(patient=patient, now=NOW)
    assert not PhotoConsent.objects.exists()
