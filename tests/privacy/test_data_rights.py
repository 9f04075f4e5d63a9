"""Patient data rights: a copy of everything held, erasure, retention (issue 14)."""

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from bookings.models import Appointment
from clinic.models import AuditEvent, MedicalHistory, Notification, Patient
from clinic.privacy.models import ErasureRequest
from clinic.privacy.retention import patient_purge
from clinic.privacy.services import erasure_request
from tests.helpers import NOW
from tests.test_access_matrix import world  # noqa: F401 (a fixture)
from tests.two_factor import verified_login
from treatments.models import ConsentSignature, InjectionLine, TreatmentRecord

pytestmark = pytest.mark.django_db


def unzip(response):
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_a_patient_downloads_everything_held_on_them(client, world):  # noqa: F811
    patient = world["a"]
    client.force_login(patient.user)
    client.get(reverse("patients:history", args=[patient.pk]))  # refused: not a read
    response = client.post(reverse("privacy:portal_data"))
    archive = unzip(response)
    names = set(archive.namelist())
    assert {
        "index.html",
        "patient.json",
        "medical_histories.json",
        "appointments.json",
        "consents.json",
        "treatment_records.json",
        "injections.json",
        "emails.json",
        "who_read_the_records.json",
        "signatures.json",
    } <= names
    signature = world["signature"]
    png = archive.read(f"signatures/consent-{signature.pk}.png")
    assert png == bytes(signature.signature_png)
    listed = {s["consent"]: s for s in json.loads(archive.read("signatures.json"))}[signature.pk]
    consents = {row["pk"]: row["fields"] for row in json.loads(archive.read("consents.json"))}
    assert consents[signature.pk]["record_sha256"] == signature.record_sha256
    assert listed["sha256"] == hashlib.sha256(png).hexdigest()
    assert len(json.loads(archive.read("medical_histories.json"))) == 1
    emails = json.loads(archive.read("emails.json"))
    assert emails and all(row["fields"]["patient"] == patient.pk for row in emails)
    links = json.loads(archive.read("consent_links.json"))
    assert links and {row["fields"]["nonce"] for row in links} == {"(secret)"}
    page = archive.read("index.html").decode()
    assert patient.full_name in page and f"signatures/consent-{signature.pk}.png" in page
    # Nothing of patient B's.
    assert world["users"]["patient_b"].email not in json.dumps(
        [json.loads(archive.read(n)) for n in names if n.endswith(".json")]
    )
    event = AuditEvent.objects.filter(what="data export").get()
    assert (event.patient, event.user, event.action) == (patient, patient.user, "export")


def test_who_read_the_records_is_in_the_copy(client, world):  # noqa: F811
    patient = world["a"]
    reader = Client()
    reader.force_login(world["users"]["practitioner"])
    reader.get(reverse("patients:history", args=[patient.pk]))
    verified_login(client, world["users"]["manager"])
    archive = unzip(client.post(reverse("privacy:patient_export", args=[patient.pk])))
    reads = json.loads(archive.read("who_read_the_records.json"))
    assert {"medical history"} <= {row["fields"]["what"] for row in reads}
    assert world["users"]["practitioner"].pk in {row["fields"]["user"] for row in reads}


def test_an_erasure_request_restricts_at_once_and_keeps_the_clinical_record(
    client,
    world,  # noqa: F811
):
    patient = world["a"]
    portal = Client()
    portal.force_login(patient.user)
    manager = world["users"]["manager"]
    request = erasure_request(patient=patient, by=manager, note="By phone", now=NOW)
    patient.refresh_from_db()
    assert patient.email == ""
    assert not Patient.history_log.filter(id=patient.pk).exclude(email="").exists()
    assert portal.get(reverse("portal_home")).status_code == 302  # logged out
    assert not patient.user.is_active and "@invalid.example" in patient.user.email
    emails = Notification.objects.filter(patient=patient)
    assert not emails.filter(status="pending").exists()
    assert set(emails.values_list("body_text", flat=True)) == {""}
    # The clinical record stays, until 7 years after the last treatment.
    assert MedicalHistory.objects.filter(patient=patient).exists()
    assert ConsentSignature.objects.filter(patient=patient).exists()
    assert request.retain_until == date(2033, 11, 26)


def test_the_retention_job_deletes_only_what_is_past_its_time(world, capsys):  # noqa: F811
    a, b = world["a"], Patient.objects.get(user=world["users"]["patient_b"])
    # Registered before the fixed "now" (the factory stamps the real clock),
    # their last appointments are on 1 December 2026.
    Patient.objects.filter(pk__in=[a.pk, b.pk]).update(created_at=NOW - timedelta(days=30))
    call_command("apply_retention", today=date(2033, 12, 2))
    assert "2 patients" in capsys.readouterr().out and Patient.objects.count() == 2  # dry run
    call_command("apply_retention", today=date(2033, 12, 1), apply=True)
    assert Patient.objects.count() == 2  # not yet 7 years
    call_command("apply_retention", today=date(2033, 12, 2), apply=True)
    assert not Patient.objects.filter(pk__in=[a.pk, b.pk]).exists()


def test_a_purge_deletes_every_record_of_the_patient_and_nothing_else(world):  # noqa: F811
    a = world["a"]
    b = Patient.objects.get(user=world["users"]["patient_b"])
    request = erasure_request(patient=a, by=world["users"]["manager"], now=NOW)
    before_b = (
        Appointment.objects.filter(patient=b).count(),
        MedicalHistory.objects.filter(patient=b).count(),
    )
    AuditEvent.objects.create(user=world["users"]["manager"], what="x", patient=a, path="/")
    patient_purge(patient=a, now=NOW + timedelta(days=3000))
    assert not Patient.objects.filter(pk=a.pk).exists()
    for model in (MedicalHistory, Appointment, ConsentSignature, TreatmentRecord, Notification):
        assert not model.objects.filter(patient_id=a.pk).exists(), model
    assert not InjectionLine.objects.filter(record__patient_id=a.pk).exists()
    assert not AuditEvent.objects.filter(patient_id=a.pk).exists()
    assert not Patient.history_log.filter(id=a.pk).exists()
    assert not MedicalHistory.history_log.filter(patient_id=a.pk).exists()
    request.refresh_from_db()
    assert (request.patient, request.patient_ref) == (None, a.pk) and request.purged_at
    after_b = (
        Appointment.objects.filter(patient=b).count(),
        MedicalHistory.objects.filter(patient=b).count(),
    )
    assert after_b == before_b
    if connection.vendor == "postgresql":  # the guards are back on for everyone else
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM clinic_medicalhistory WHERE patient_id = %s", [b.pk])
    assert ErasureRequest.objects.count() == 1
