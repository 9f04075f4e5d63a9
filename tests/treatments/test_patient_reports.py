"""Patients report a problem after a treatment (issue 18): from the portal and
from the aftercare email's signed link. Red flags: "Call 999 now" first, and
the treating practitioner and the clinic alerted in the same transaction;
anything else waits on the practitioner's review list."""

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.accounts.models import Attempt
from clinic.models import AuditEvent, Notification
from clinic.outbox import send_due
from tests.factories import PASSWORD, LotFactory, PatientFactory, UserFactory
from tests.helpers import at, history
from tests.treatments.test_records import D5, DAY, add, complete, ready
from treatments import messages as treatment_messages
from treatments import services
from treatments.models import PatientReport, PatientReportReview
from treatments.reports import TOKEN_SALT, report_token

pytestmark = pytest.mark.django_db

NO = {"vision": False, "pain": False, "skin": False, "breathing": False}
ALERT_PHONE = "+447400123456"
CLINIC_ALERTS = "desk@clinic.test"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


@pytest.fixture(autouse=True)
def clinic_alerts(settings):
    settings.CLINIC_ALERT_EMAIL = CLINIC_ALERTS
    settings.CLINIC_ALERT_PHONE = ""


def sign(patient, practitioner, procedure, *, lot=None, at_time="10:00"):
    appointment = ready(patient, practitioner, procedure, at_time=at_time)
    record = services.treatment_start(appointment=appointment, by=practitioner.user, now=DAY)
    add(record, lot or LotFactory(lot_number="R1"))
    complete(record)
    return services.treatment_sign(record=record, by=practitioner.user, password=PASSWORD, now=DAY)


@pytest.fixture
def signed(patient_a, injector, flip):
    history(patient_a)
    return sign(patient_a, injector, flip)


def submit(record, *, answers=None, now=DAY, via="portal", **fields):
    return services.patient_report_submit(
        record=record, via=via, answers={**NO, **(answers or {})}, now=now, **fields
    )


def alerts():
    return Notification.objects.filter(kind="report_alert")


def refused(fn, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    return exc.value


# The service: red flags alert in the same transaction


def test_a_red_flag_saves_the_report_and_alerts_the_practitioner_and_the_clinic(signed):
    report = submit(signed, answers={"skin": True}, concern="")
    assert report.urgent and report.codes == ["red_flag_reported"]
    rows = {(n.channel, n.to_email or n.to_phone) for n in alerts()}
    assert rows == {
        ("email", signed.practitioner.user.email),
        ("email", CLINIC_ALERTS),
    }
    email = alerts().get(to_email=signed.practitioner.user.email)
    assert email.patient == signed.patient and email.due_at == DAY
    assert "skin turning white, blue or mottled" in email.body_text
    assert signed.patient.phone_display in email.body_text
    assert reverse("treatments:report", args=[report.pk]) in email.body_text
    assert "URGENT: red flag reported" in email.body_html and "Hello" not in email.body_html
    assert email.subject.startswith("URGENT: red flag reported by Alice Patient")


def test_texts_go_where_the_practitioner_and_the_clinic_have_a_number(signed, settings):
    signed.practitioner.alert_phone = "07400 123456"
    signed.practitioner.full_clean()
    signed.practitioner.save()
    settings.CLINIC_ALERT_PHONE = "+447400123457"
    submit(signed, answers={"breathing": True})
    texts = alerts().filter(channel="sms")
    assert set(texts.values_list("to_phone", flat=True)) == {ALERT_PHONE, "+447400123457"}
    assert all("Told to call 999" in t.body_text for t in texts)


def test_an_alert_text_goes_at_night_when_patients_texts_would_wait(signed, settings):
    signed.practitioner.alert_phone = ALERT_PHONE
    signed.practitioner.save()
    night = at(D5, "23:30")
    submit(signed, answers={"vision": True}, now=night)
    text = alerts().get(channel="sms")
    assert text.due_at == night
    send_due(now=night)
    assert {n.status for n in alerts()} == {Notification.Status.SENT}  # the text too, at 23:30


def test_a_failure_after_the_alert_rolls_back_the_report_and_the_alert(signed, monkeypatch):
    written = treatment_messages.report_alert

    def alert_then_fail(report, *, now):
        written(report, now=now)
        assert alerts().count() == 2  # the alert rows were written, in the transaction
        raise RuntimeError("the database went away")

    monkeypatch.setattr(treatment_messages, "report_alert", alert_then_fail)
    with pytest.raises(RuntimeError):
        submit(signed, answers={"pain": True})
    assert PatientReport.objects.count() == 0 and alerts().count() == 0


def test_no_report_is_saved_without_its_alert(signed, monkeypatch):
    def outbox_down(report, *, now):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(treatment_messages, "report_alert", outbox_down)
    with pytest.raises(RuntimeError):
        submit(signed, answers={"vision": True})
    assert not PatientReport.objects.exists()


def test_the_alert_exists_exactly_when_a_red_flag_report_does(signed):
    submit(signed, concern="swelling")
    submit(signed, answers={"vision": True})
    for report in PatientReport.objects.all():
        keys = set(
            alerts()
            .filter(dedupe_key__contains=f"report:{report.pk}:")
            .values_list("dedupe_key", flat=True)
        )
        expected = {f"email:report:{report.pk}:{who}" for who in ("practitioner", "clinic")}
        assert keys == (expected if report.urgent else set())


def test_without_a_red_flag_no_alert_and_the_report_waits_for_review(signed):
    report = submit(signed, concern="bruising", description="A bruise on the left.")
    assert not report.urgent and report.codes == ["report_for_review"]
    assert not alerts().exists()
    assert list(PatientReport.objects.awaiting_review()) == [report]


# Bad input: clear messages, nothing saved


def test_without_a_red_flag_every_question_must_be_answered(signed):
    error = refused(submit, record=signed, answers={"pain": None, "skin": None}, concern="swelling")
    assert set(error.error_dict) == {"pain", "skin"}
    assert "Answer yes or no" in error.message_dict["pain"][0]
    assert not PatientReport.objects.exists()


def test_one_red_flag_is_enough_the_rest_may_be_left(signed):
    report = submit(signed, answers={"vision": True, "pain": None, "skin": None, "breathing": None})
    assert report.urgent and report.pain is None


def test_without_a_red_flag_it_must_say_what_is_wrong(signed):
    error = refused(submit, record=signed, concern="", description="   ")
    assert "pick what fits best" in error.message_dict["concern"][0]


def test_a_very_long_description_is_refused_with_the_limit(signed):
    error = refused(submit, record=signed, concern="other", description="x" * 2001)
    assert error.code == "report_too_long" and "2000" in error.messages[0]


def test_an_unknown_concern_is_refused(signed):
    assert refused(submit, record=signed, concern="alien").message_dict["concern"]


def test_a_treatment_older_than_the_window_cannot_be_reported_here(signed, settings):
    late = DAY + timedelta(days=settings.PATIENT_REPORT_DAYS + 1)
    error = refused(submit, record=signed, concern="lump", now=late)
    assert error.code == "report_window_closed" and "call 999" in error.messages[0]
    assert submit(signed, concern="lump", now=DAY + timedelta(days=settings.PATIENT_REPORT_DAYS))


def test_a_draft_record_cannot_be_reported_on(patient_a, injector, flip):
    history(patient_a)
    appointment = ready(patient_a, injector, flip)
    draft = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    assert refused(submit, record=draft, concern="lump").code == "report_not_signed"


def test_more_than_the_hourly_limit_is_refused(signed, settings):
    settings.PATIENT_REPORTS_PER_HOUR = 2
    submit(signed, concern="lump")
    submit(signed, concern="lump", now=DAY + timedelta(minutes=5))
    error = refused(submit, record=signed, concern="lump", now=DAY + timedelta(minutes=10))
    assert error.code == "report_too_many" and "call 999" in error.messages[0]
    assert submit(signed, concern="lump", now=DAY + timedelta(minutes=61))


# Review


def test_a_practitioner_reviews_once_with_a_note(signed, other_practitioner):
    report = submit(signed, concern="lump")
    assert refused(
        services.patient_report_review, report=report, by=signed.practitioner.user, note=" "
    ).code == ("review_note_missing")
    # A colleague may cover for the treating practitioner.
    review = services.patient_report_review(
        report=report, by=other_practitioner.user, note="Called: massage advice, review in 1 week."
    )
    assert review.reviewed_by == other_practitioner.user
    assert not PatientReport.objects.awaiting_review().exists()
    again = refused(
        services.patient_report_review, report=report, by=signed.practitioner.user, note="Again"
    )
    assert again.code == "review_done" and "Olly Other" in again.messages[0]
    assert PatientReportReview.objects.count() == 1


def test_only_a_practitioner_reviews(signed, manager, front_desk):
    report = submit(signed, concern="lump")
    for user in (manager, front_desk):
        error = refused(services.patient_report_review, report=report, by=user, note="Seen")
        assert error.code == "review_not_allowed"


def test_reports_and_reviews_never_change(signed):
    from clinic.db import RecordIsFinal

    report = submit(signed, concern="lump")
    report.description = "changed"
    with pytest.raises(RecordIsFinal):
        report.save()
    with pytest.raises(RecordIsFinal):
        PatientReport.objects.update(description="changed")


# The portal


def test_the_portal_offers_a_report_for_a_recent_signed_treatment(client, signed, settings):
    client.force_login(signed.patient.user)
    url = reverse("portal_report", args=[signed.pk])
    assert url in client.get(reverse("portal_home")).content.decode()
    page = client.get(url).content.decode()
    for question in ("Has your sight changed?", "Is the pain severe", "changed colour?"):
        assert question in page
    assert "trouble swallowing, breathing or speaking" in page and 'href="tel:999"' in page


def test_the_portal_hides_the_button_once_the_window_has_passed(
    client, signed, settings, monkeypatch
):
    later = DAY + timedelta(days=settings.PATIENT_REPORT_DAYS + 1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    client.force_login(signed.patient.user)
    url = reverse("portal_report", args=[signed.pk])
    assert url not in client.get(reverse("portal_home")).content.decode()
    page = client.get(url).content.decode()
    assert 'id="report-closed"' in page and "<form" not in page.split('id="report-closed"')[1]


def test_a_red_flag_from_the_portal_shows_call_999_first(client, signed):
    client.force_login(signed.patient.user)
    response = client.post(
        reverse("portal_report", args=[signed.pk]), {"breathing": "yes", "description": "Hard"}
    )
    report = PatientReport.objects.get()
    assert response.url == reverse("portal_report_sent", args=[report.pk])
    page = client.get(response.url).content.decode()
    assert page.index("Call 999 now") < page.index("The clinic has been told")
    assert 'href="tel:999"' in page
    assert report.via == "portal" and alerts().count() == 2


def test_a_portal_report_without_red_flags_says_who_will_look(client, signed):
    client.force_login(signed.patient.user)
    data = {**dict.fromkeys(NO, "no"), "concern": "swelling"}
    response = client.post(reverse("portal_report", args=[signed.pk]), data)
    page = client.get(response.url).content.decode()
    assert "Thank you: we have your message" in page and "Call 999 now" not in page
    assert str(signed.practitioner) in page


def test_bad_portal_answers_are_shown_under_each_question(client, signed):
    client.force_login(signed.patient.user)
    response = client.post(
        reverse("portal_report", args=[signed.pk]), {"vision": "no", "pain": "maybe"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and not PatientReport.objects.exists()
    assert "Select a valid choice" in page
    response = client.post(reverse("portal_report", args=[signed.pk]), {"vision": "no"})
    page = response.content.decode()
    assert page.count("Answer yes or no") == 3
    assert "Tell us what is wrong" in page


def test_a_refused_red_flag_report_still_says_call_999(client, signed, settings):
    settings.PATIENT_REPORTS_PER_HOUR = 1
    submit(signed, concern="lump")
    client.force_login(signed.patient.user)
    response = client.post(reverse("portal_report", args=[signed.pk]), {"vision": "yes"})
    page = response.content.decode()
    assert response.status_code == 200 and PatientReport.objects.count() == 1
    assert page.index("Call 999 now") < page.index("reports about this treatment")


def test_another_patient_cannot_report_on_or_see_someone_elses(client, signed, patient_b):
    report = submit(signed, concern="lump")
    client.force_login(patient_b.user)
    assert client.get(reverse("portal_report", args=[signed.pk])).status_code == 404
    posted = client.post(reverse("portal_report", args=[signed.pk]), {"vision": "yes"})
    assert posted.status_code == 404
    assert client.get(reverse("portal_report_sent", args=[report.pk])).status_code == 404
    assert PatientReport.objects.count() == 1


# The link in the aftercare email


def test_the_aftercare_email_carries_the_report_link(client, signed):
    email = Notification.objects.get(kind="aftercare", appointment=signed.appointment)
    url = next(w for w in email.body_text.split() if "/report/" in w)
    assert 'href="' + url in email.body_html
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200 and "Tell us about a problem" in response.content.decode()


def test_the_link_report_needs_no_login_and_shows_call_999_first(client, signed):
    url = reverse("treatments:report_link", args=[report_token(signed)])
    response = client.post(url, {"skin": "yes"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert page.index("Call 999 now") < page.index("The clinic has been told")
    report = PatientReport.objects.get()
    assert report.via == "link" and report.record == signed and report.patient == signed.patient


def test_the_sent_page_needs_the_session_that_sent_it(client, signed):
    token = report_token(signed)
    submit(signed, answers={"vision": True})
    response = client.get(reverse("treatments:report_link_sent", args=[token]))
    assert response.url == reverse("treatments:report_link", args=[token])


def test_a_tampered_link_gives_a_clear_page(client, signed):
    token = report_token(signed)
    response = client.get(reverse("treatments:report_link", args=[token[:-2] + "xx"]))
    page = response.content.decode()
    assert response.status_code == 400 and "This link is not complete" in page
    assert 'href="tel:999"' in page


def test_an_expired_link_gives_a_clear_page(client, signed, settings, monkeypatch):
    token = report_token(signed)
    written = time.time()
    monkeypatch.setattr("time.time", lambda: written + settings.PATIENT_REPORT_DAYS * 86400 + 5)
    response = client.get(reverse("treatments:report_link", args=[token]))
    assert response.status_code == 410 and "This link has expired" in response.content.decode()


def test_the_link_is_bound_to_one_patient_and_one_record(client, signed, injector, flip):
    other = PatientFactory()
    history(other)
    theirs = sign(other, injector, flip, lot=LotFactory(lot_number="R2"), at_time="11:00")
    # Correctly signed, but naming another patient's record: refused.
    forged = signing.dumps({"r": theirs.pk, "p": signed.patient_id}, salt=TOKEN_SALT)
    response = client.post(reverse("treatments:report_link", args=[forged]), {"vision": "yes"})
    assert response.status_code == 400 and not PatientReport.objects.exists()
    # Another salt (a consent link's token) does not open a report.
    consent_like = signing.dumps({"r": signed.pk, "p": signed.patient_id}, salt="other")
    assert client.get(reverse("treatments:report_link", args=[consent_like])).status_code == 400


def test_a_logged_in_patient_cannot_use_someone_elses_link(client, signed, patient_b):
    client.force_login(patient_b.user)
    url = reverse("treatments:report_link", args=[report_token(signed)])
    response = client.post(url, {"vision": "yes"})
    assert response.status_code == 403 and "for someone else" in response.content.decode()
    assert not PatientReport.objects.exists()


def test_bad_links_from_one_address_are_throttled(client, signed, settings):
    settings.REPORT_LINK_FAILURES_PER_HOUR = 3
    for _ in range(3):
        assert client.get(reverse("treatments:report_link", args=["nonsense"])).status_code == 400
    assert Attempt.objects.filter(kind="report_link").count() == 3
    good = client.get(reverse("treatments:report_link", args=[report_token(signed)]))
    assert good.status_code == 429 and 'href="tel:999"' in good.content.decode()


# Staff: My day, the list, the report, by role


def test_my_day_lists_my_patients_reports_until_reviewed(client, signed, other_practitioner):
    report = submit(signed, answers={"vision": True})
    client.force_login(signed.practitioner.user)
    page = client.get(reverse("practitioner_home")).content.decode()
    assert reverse("treatments:report", args=[report.pk]) in page and "red flag" in page
    client.force_login(other_practitioner.user)
    assert "my-reports" not in client.get(reverse("practitioner_home")).content.decode()
    services.patient_report_review(report=report, by=signed.practitioner.user, note="Sent to A&E")
    client.force_login(signed.practitioner.user)
    assert "my-reports" not in client.get(reverse("practitioner_home")).content.decode()


def test_the_list_puts_red_flags_first_and_the_front_desk_sees_no_details(
    client, signed, front_desk
):
    routine = submit(signed, concern="lump", description="A small lump on the left")
    urgent = submit(signed, answers={"vision": True}, now=DAY - timedelta(minutes=5))
    client.force_login(signed.practitioner.user)
    page = client.get(reverse("treatments:reports")).content.decode()
    first = reverse("treatments:report", args=[urgent.pk])
    assert page.index(first) < page.index(reverse("treatments:report", args=[routine.pk]))
    client.force_login(front_desk)
    page = client.get(reverse("treatments:reports")).content.decode()
    assert str(signed.patient) in page and "red flag" in page
    assert first not in page and "small lump" not in page
    assert client.get(first).status_code == 403


def test_a_practitioner_marks_a_report_reviewed_on_its_page(client, signed):
    report = submit(signed, concern="lump", description="A small lump on the left")
    client.force_login(signed.practitioner.user)
    url = reverse("treatments:report", args=[report.pk])
    page = client.get(url).content.decode()
    assert "A small lump on the left" in page and "Mark reviewed" in page
    assert AuditEvent.objects.filter(what="patient report", object_id=str(report.pk)).exists()
    assert "Say what you did" in client.post(url, {"note": ""}).content.decode()
    response = client.post(url, {"note": "Called; seen tomorrow."})
    assert response.url == reverse("treatments:reports")
    assert report.review.note == "Called; seen tomorrow."


def test_a_manager_reads_a_report_but_does_not_review_it(client, signed, manager):
    report = submit(signed, concern="lump")
    client.force_login(manager)
    url = reverse("treatments:report", args=[report.pk])
    page = client.get(url).content.decode()
    assert "Mark reviewed" not in page and "Waiting for a practitioner" in page
    assert client.post(url, {"note": "Fine"}).status_code == 403
    assert not PatientReportReview.objects.exists()


# Settings and numbers


def test_an_alert_number_must_be_one_a_text_can_reach(practitioner):
    practitioner.alert_phone = "12"
    with pytest.raises(ValidationError) as exc:
        practitioner.full_clean()
    assert "alert_phone" in exc.value.message_dict
    practitioner.alert_phone = "07400 123456"
    practitioner.full_clean()
    assert practitioner.alert_phone == ALERT_PHONE


def test_the_patient_data_copy_holds_the_reports(signed):
    from clinic.privacy.export import patient_records

    submit(signed, concern="lump")
    records = patient_records(signed.patient)
    assert records["problem_reports"].count() == 1


def test_a_staff_user_without_a_role_is_refused(client, signed):
    nobody = UserFactory()
    client.force_login(nobody)
    assert client.get(reverse("treatments:reports")).status_code == 403


def test_the_treatment_record_lists_what_the_patient_reported(client, signed, manager):
    urgent = submit(signed, answers={"skin": True})
    routine = submit(signed, concern="bruising", now=DAY - timedelta(minutes=1))
    services.patient_report_review(report=routine, by=signed.practitioner.user, note="Fine")
    for user in (signed.practitioner.user, manager):
        client.force_login(user)
        page = client.get(reverse("treatments:record", args=[signed.pk])).content.decode()
        section = page[page.index('id="patient-reports"') :]
        assert reverse("treatments:report", args=[urgent.pk]) in section
        assert reverse("treatments:report", args=[routine.pk]) in section
        assert "waiting for review" in section and "reviewed by Pat Injector" in section
