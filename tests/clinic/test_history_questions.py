"""Questions added to the medical history after the first release (issue 12):
older histories keep no answer to them, read as incomplete, and must be
updated, never re-confirmed unchanged, before the next treatment."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from bookings import services as booking_services
from bookings.html import appointment_badges
from bookings.models import Appointment
from clinic import services
from clinic.medical import ALL_NO, YES_NO_FIELDS
from clinic.models import HISTORY_COMPLETE, MedicalHistory
from clinic.rules import HistoryState
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.helpers import LONDON, at, book, sign_consents
from treatments import services as treatment_services

pytestmark = pytest.mark.django_db

ADDED = [
    "reaction_to_ha_filler",
    "allergy_human_albumin",
    "allergy_hyaluronidase_or_bee_venom",
    "autoimmune_disease",
    "keloid_scarring",
    "permanent_lip_filler_or_implant",
    "previous_vascular_complication",
    "toxin_elsewhere",
]
D5 = date(2026, 12, 1)
DAY = at(D5, "09:50")


def old_history(patient, **changes):
    """A current history given before the added questions: they are NULL."""
    fields = {"submitted_at": datetime(2026, 11, 1, tzinfo=LONDON), **dict.fromkeys(ADDED)}
    return MedicalHistoryFactory(patient=patient, **{**fields, **changes})


def submit(patient, by, now=DAY, **changes):
    return services.medical_history_submit(
        patient=patient, submitted_by=by, source="staff", now=now, **{**ALL_NO, **changes}
    )


def refused(code, service, **kwargs):
    with pytest.raises(ValidationError) as exc:
        service(**kwargs)
    assert exc.value.code == code
    return exc.value.messages[0]


def test_every_added_question_is_asked():
    assert set(ADDED) <= set(YES_NO_FIELDS)


@pytest.mark.parametrize(
    ("changes", "complete"),
    [
        ({}, True),
        ({"keloid_scarring": None}, False),
        ({"toxin_elsewhere": True, "toxin_elsewhere_date": None}, False),
        ({"toxin_elsewhere": True, "toxin_elsewhere_date": date(2026, 10, 1)}, True),
    ],
)
def test_complete_means_every_question_answered_with_the_date(patient, changes, complete):
    history = MedicalHistoryFactory(patient=patient, **changes)
    assert history.is_complete is complete
    in_sql = MedicalHistory.objects.filter(HISTORY_COMPLETE, pk=history.pk).exists()
    assert in_sql is complete


def test_an_old_history_reads_incomplete_until_it_goes_stale(patient):
    history = old_history(patient)
    assert MedicalHistory.state_of(history, today=date(2026, 11, 26)) == HistoryState.INCOMPLETE
    assert MedicalHistory.state_of(history, today=date(2027, 5, 1)) == HistoryState.STALE


def test_a_new_history_must_answer_the_added_questions(patient, practitioner):
    with pytest.raises(ValidationError) as exc:
        submit(patient, practitioner.user, reaction_to_ha_filler=None)
    assert exc.value.message_dict == {"reaction_to_ha_filler": ["Answer yes or no."]}


# Toxin at another clinic: the date


def test_toxin_elsewhere_needs_its_date(patient, practitioner):
    msg = refused(
        "toxin_elsewhere_date_required",
        submit,
        patient=patient,
        by=practitioner.user,
        toxin_elsewhere=True,
    )
    assert msg == services.TOXIN_ELSEWHERE_DATE_REQUIRED.message


@pytest.mark.parametrize(
    ("given", "code"),
    [
        (date(2026, 12, 2), "toxin_elsewhere_date_future"),  # tomorrow
        (date(2026, 12, 1), None),  # today
        (date(2026, 6, 1), None),  # exactly 6 months ago
        (date(2026, 5, 31), "toxin_elsewhere_date_too_old"),
        (date(1926, 6, 1), "toxin_elsewhere_date_too_old"),
    ],
)
def test_toxin_elsewhere_date_within_the_last_six_months(patient, practitioner, given, code):
    kwargs = {"toxin_elsewhere": True, "toxin_elsewhere_date": given}
    if code is None:
        assert submit(patient, practitioner.user, **kwargs).toxin_elsewhere_date == given
    else:
        msg = refused(code, submit, patient=patient, by=practitioner.user, **kwargs)
        assert "01 June 2026" in msg or "future" in msg
        assert not MedicalHistory.objects.exists()


def test_a_date_without_a_yes_is_not_kept(patient, practitioner):
    history = submit(patient, practitioner.user, toxin_elsewhere_date=date(2026, 10, 1))
    assert (history.toxin_elsewhere, history.toxin_elsewhere_date) == (False, None)


def test_the_form_puts_the_date_refusal_under_the_date(client, practitioner, patient):
    client.force_login(practitioner.user)
    data = dict.fromkeys(ALL_NO, "no") | {"toxin_elsewhere": "yes"}
    response = client.post(reverse("patients:history_new", args=[patient.pk]), data)
    errors = response.context["form"].errors
    assert errors["toxin_elsewhere_date"] == [services.TOXIN_ELSEWHERE_DATE_REQUIRED.message]
    assert not MedicalHistory.objects.exists()


def test_each_unanswered_added_question_gets_its_message(client, practitioner, patient):
    client.force_login(practitioner.user)
    data = {k: "no" for k in ALL_NO if k not in ADDED}
    response = client.post(reverse("patients:history_new", args=[patient.pk]), data)
    errors = response.context["form"].errors
    assert {name: errors[name] for name in ADDED} == dict.fromkeys(ADDED, ["Answer yes or no."])
    assert not MedicalHistory.objects.exists()


# Re-confirming unchanged is refused; the form keeps the old answers


def test_an_incomplete_history_cannot_be_reconfirmed(patient, practitioner):
    old_history(patient)
    msg = refused(
        "reconfirm_incomplete",
        services.medical_history_reconfirm,
        patient=patient,
        submitted_by=practitioner.user,
        source="staff",
    )
    assert "answer the new questions" in msg
    assert "1 November 2026" in msg
    assert MedicalHistory.objects.count() == 1


def test_staff_reconfirm_leads_to_the_form_with_old_answers_and_new_blanks(
    client, practitioner, patient
):
    old_history(patient, cold_sores=True)
    client.force_login(practitioner.user)
    response = client.post(reverse("patients:history_reconfirm", args=[patient.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("patients:history_new", args=[patient.pk])
    assert "answer the new questions" in response.content.decode()
    initial = response.context["form"].initial
    assert (initial["cold_sores"], initial["bleeding_disorder"]) == ("yes", "no")
    assert [initial[name] for name in ADDED] == [None] * len(ADDED)
    assert MedicalHistory.objects.count() == 1


def test_the_staff_history_page_offers_no_unchanged_reconfirm(client, practitioner, patient):
    old_history(patient)
    client.force_login(practitioner.user)
    page = client.get(reverse("patients:history", args=[patient.pk])).content.decode()
    assert "missing answers to questions added since it was given" in page
    assert reverse("patients:history_reconfirm", args=[patient.pk]) not in page
    assert "Not answered: asked since" in page


def test_portal_reconfirm_is_refused_and_the_form_asks_the_new_questions(client, patient_a):
    old_history(patient_a)
    client.force_login(patient_a.user)
    response = client.post(reverse("portal_history_reconfirm"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal_history")
    page = response.content.decode()
    assert "answer the new questions" in page
    assert "We have added questions since then" in page
    assert "Nothing has changed: confirm my answers" not in page
    initial = response.context["form"].initial
    assert initial["pregnant_or_breastfeeding"] == "no"
    assert initial["toxin_elsewhere"] is None
    assert MedicalHistory.objects.count() == 1
    data = dict.fromkeys(ALL_NO, "no")
    client.post(reverse("portal_history"), data)
    latest = MedicalHistory.objects.latest_for(patient_a)
    assert latest.is_complete and latest.confirms is None


def test_the_portal_home_asks_for_the_new_answers(client, patient_a):
    old_history(patient_a)
    client.force_login(patient_a.user)
    page = client.get(reverse("portal_home")).content.decode()
    assert "Answer the new questions" in page


def test_the_patient_page_says_what_is_missing(client, practitioner, patient):
    old_history(patient)
    client.force_login(practitioner.user)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "New questions to answer" in page
    assert "Update it with the patient before their next treatment" in page


# Booking is fine; check-in and the treatment record are refused


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


def test_booking_keeps_the_state_and_pages_flag_it(injector, flip):
    patient = PatientFactory()
    old_history(patient)
    appointment = book(patient, injector, flip, at(D5, "11:00"))
    assert appointment.history_state == "incomplete"
    loaded = Appointment.objects.with_history().get(pk=appointment.pk)
    assert loaded.history_state_now == "incomplete"
    assert loaded.needs_history
    assert "history_incomplete" in appointment_badges(loaded)


def test_check_in_flags_an_incomplete_history(injector, flip, front_desk):
    # Check-in is the arrival marker: the history is completed before treatment.
    patient = PatientFactory()
    old_history(patient)
    appointment = book(patient, injector, flip, at(D5, "11:00"))
    checked = booking_services.appointment_check_in(
        appointment=appointment, by=front_desk, now=at(D5, "08:30")
    )
    assert checked.history_state == "incomplete"
    assert checked.events.get(kind="checked_in").details["flags"] == ["history_needed"]


def test_treatment_start_refuses_an_incomplete_history(frozen_now, healthy, injector, flip):
    # Checked in with a complete history; the latest one (as if written before
    # the questions were added, by a path that skips the form) lacks answers.
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    sign_consents(appointment)
    booking_services.appointment_check_in(appointment=appointment, by=injector.user, now=DAY)
    old_history(healthy, submitted_at=DAY - timedelta(minutes=5))
    msg = refused(
        "history_incomplete",
        treatment_services.treatment_start,
        appointment=appointment,
        by=injector.user,
        now=DAY,
    )
    assert "missing answers to questions added since it was given" in msg


# The migration


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_keeps_old_histories_and_leaves_the_new_answers_blank():
    before = [("clinic", "0007_patient_surname_index")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    user = old_apps.get_model("clinic", "User").objects.create(
        email="old@example.test", full_name="Old Hand"
    )
    patient = old_apps.get_model("clinic", "Patient").objects.create(
        first_name="Olive", last_name="Older", date_of_birth=date(1980, 1, 1), phone="07700900999"
    )
    old = old_apps.get_model("clinic", "MedicalHistory").objects.create(
        patient=patient,
        submitted_by=user,
        source="patient",
        submitted_at=timezone.now(),
        **{**dict.fromkeys(set(YES_NO_FIELDS) - set(ADDED), False), "cold_sores": True},
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    history = MedicalHistory.objects.get(pk=old.pk)
    assert history.cold_sores is True
    assert [getattr(history, name) for name in ADDED] == [None] * len(ADDED)
    assert history.toxin_elsewhere_date is None
    assert not history.is_complete
    today = timezone.localdate()
    assert MedicalHistory.state_of(history, today=today) == HistoryState.INCOMPLETE
