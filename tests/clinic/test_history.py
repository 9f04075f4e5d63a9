from datetime import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from clinic import services
from clinic.db import RecordIsFinal
from clinic.medical import ALL_NO
from clinic.models import MedicalHistory
from clinic.rules import HistoryState
from tests.factories import MedicalHistoryFactory, PatientFactory

pytestmark = pytest.mark.django_db


def submit(patient, by, **changes):
    return services.medical_history_submit(
        patient=patient,
        submitted_by=by,
        source=MedicalHistory.Source.STAFF,
        **{**ALL_NO, **changes},
    )


def test_every_submission_is_a_new_version(patient, practitioner):
    first = submit(patient, practitioner.user)
    second = submit(patient, practitioner.user, cold_sores=True)
    assert MedicalHistory.objects.filter(patient=patient).count() == 2
    first.refresh_from_db()
    assert first.cold_sores is False
    assert MedicalHistory.objects.latest_for(patient) == second


def test_an_active_cold_sore_implies_a_history_of_them(patient, practitioner):
    assert submit(patient, practitioner.user, active_cold_sore=True).cold_sores is True


def test_reconfirming_copies_the_answers_into_a_new_dated_version(patient, practitioner):
    old = submit(patient, practitioner.user, prescribed_anticoagulants=["warfarin"])
    later = datetime.fromisoformat("2027-06-01T09:00:00+00:00")
    new = services.medical_history_reconfirm(
        patient=patient, submitted_by=practitioner.user, source="staff", now=later
    )
    assert (new.confirms, new.prescribed_anticoagulants, new.submitted_at) == (
        old,
        ["warfarin"],
        later,
    )


def test_nothing_to_reconfirm(patient, practitioner):
    with pytest.raises(Exception) as exc:
        services.medical_history_reconfirm(
            patient=patient, submitted_by=practitioner.user, source="staff"
        )
    assert exc.value.code == "nothing_to_confirm"


def test_a_version_can_never_be_changed_or_deleted_in_the_app(patient, practitioner):
    history = submit(patient, practitioner.user)
    history.pregnant_or_breastfeeding = True
    with pytest.raises(RecordIsFinal):
        history.save()
    with pytest.raises(RecordIsFinal):
        history.delete()
    with pytest.raises(RecordIsFinal):
        MedicalHistory.objects.filter(pk=history.pk).update(pregnant_or_breastfeeding=True)
    history.refresh_from_db()
    assert history.pregnant_or_breastfeeding is False


@pytest.mark.postgres
def test_postgres_refuses_a_raw_update_of_a_version(patient, practitioner):
    history = submit(patient, practitioner.user)
    with (
        pytest.raises(IntegrityError, match="record is final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE clinic_medicalhistory SET notes = 'changed' WHERE id = %s", [history.pk]
        )
    history.refresh_from_db()
    assert history.notes == ""


def test_state_follows_the_configured_age(patient, settings):
    history = MedicalHistoryFactory(
        patient=patient, submitted_at=datetime.fromisoformat("2026-05-26T12:00:00+01:00")
    )
    today = datetime(2026, 11, 26).date()
    assert MedicalHistory.state_of(history, today=today) == HistoryState.STALE
    settings.MEDICAL_HISTORY_MAX_AGE_MONTHS = 12
    assert MedicalHistory.state_of(history, today=today) == HistoryState.CURRENT
    assert MedicalHistory.state_of(None, today=today) == HistoryState.MISSING


def test_the_submission_day_is_the_clinics_local_day(patient):
    # 23:30 UTC on 25 May is 00:30 on 26 May in London (BST).
    history = MedicalHistoryFactory(
        patient=patient, submitted_at=datetime.fromisoformat("2026-05-25T23:30:00+00:00")
    )
    assert str(history.submitted_on) == "2026-05-26"


def test_practitioner_records_a_version_through_the_form(client, practitioner, patient):
    client.force_login(practitioner.user)
    data = dict.fromkeys(ALL_NO, "no") | {
        "pregnant_or_breastfeeding": "yes",
        "prescribed_anticoagulants": ["apixaban"],
    }
    response = client.post(reverse("patients:history_new", args=[patient.pk]), data)
    assert response.status_code == 302
    history = MedicalHistory.objects.get(patient=patient)
    assert history.pregnant_or_breastfeeding is True
    assert history.prescribed_anticoagulants == ["apixaban"]
    assert history.source == "staff"


def test_an_unanswered_question_is_marked_and_nothing_is_saved(client, practitioner, patient):
    client.force_login(practitioner.user)
    data = dict.fromkeys(ALL_NO, "no")
    del data["bleeding_disorder"]
    data["prescribed_anticoagulants"] = ["other"]
    response = client.post(reverse("patients:history_new", args=[patient.pk]), data)
    errors = response.context["form"].errors
    assert errors["bleeding_disorder"] == ["Answer yes or no."]
    assert "write its name here" in errors["prescribed_anticoagulant_other"][0]
    assert not MedicalHistory.objects.exists()


# Who sees what


def test_front_desk_sees_the_outcome_but_not_the_clinical_details(client, front_desk, patient):
    MedicalHistoryFactory(patient=patient, pregnant_or_breastfeeding=True)
    client.force_login(front_desk)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Not bookable" in page
    assert "breastfeeding" not in page.lower()
    for name in ("patients:history", "patients:history_new"):
        assert client.get(reverse(name, args=[patient.pk])).status_code == 403


def test_practitioner_sees_the_clinical_details(client, practitioner, patient):
    MedicalHistoryFactory(patient=patient, pregnant_or_breastfeeding=True)
    client.force_login(practitioner.user)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Pregnant or breastfeeding" in page
    assert client.get(reverse("patients:history", args=[patient.pk])).status_code == 200


def test_a_version_of_another_patient_is_not_found(client, practitioner, patient):
    other = MedicalHistoryFactory(patient=PatientFactory())
    client.force_login(practitioner.user)
    url = reverse("patients:history_version", args=[patient.pk, other.pk])
    assert client.get(url).status_code == 404


def test_a_patient_sees_and_updates_only_their_own_history(client, patient_a, patient_b):
    MedicalHistoryFactory(patient=patient_b, notes="Bob's private note")
    client.force_login(patient_a.user)
    page = client.get(reverse("portal_history"))
    assert page.status_code == 200
    assert "Bob's private note" not in page.content.decode()
    data = dict.fromkeys(ALL_NO, "no") | {"patient": patient_b.pk}
    client.post(reverse("portal_history"), data)
    assert MedicalHistory.objects.filter(patient=patient_a, source="patient").count() == 1
    assert MedicalHistory.objects.filter(patient=patient_b).count() == 1


@pytest.mark.parametrize("name", ["patients:list", "patients:create"])
def test_patients_cannot_open_staff_pages(client, patient_a, name):
    client.force_login(patient_a.user)
    assert client.get(reverse(name)).status_code == 403


def test_patients_cannot_open_any_patient_record(client, patient_a, patient_b):
    client.force_login(patient_a.user)
    for target in (patient_a, patient_b):
        assert client.get(reverse("patients:detail", args=[target.pk])).status_code == 403
        assert client.get(reverse("patients:history", args=[target.pk])).status_code == 403


@pytest.mark.parametrize(
    "url",
    ["/patients/", "/patients/1/", "/patients/1/history/", "/portal/history/", "/stock/"],
)
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
