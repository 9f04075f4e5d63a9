import base64
import io
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from PIL import Image, ImageDraw

from clinic.db import RecordIsFinal
from clinic.models import Notification
from clinic.outbox import send_due
from tests.helpers import NOW, at, book, history
from treatments import services
from treatments.consent import ConsentState, consent_for, make_token
from treatments.models import ConsentForm, ConsentRequest, ConsentSignature
from treatments.signature import signature_png

pytestmark = pytest.mark.django_db
D5 = date(2026, 12, 1)


def drawing(width=600, height=200, strokes=True, fmt="PNG"):
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if strokes:
        pen = ImageDraw.Draw(image)
        pen.line([(20, 150), (120, 40), (220, 160), (320, 50), (420, 150)], fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SIGNATURE = drawing()


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def appointment(healthy, injector, flip):
    return book(healthy, injector, flip, at(D5, "10:00"))


@pytest.fixture
def combined_appointment(healthy, injector, combined):
    return book(healthy, injector, combined, at(D5, "14:00"))


def current_form(code):
    return ConsentForm.objects.current().get(procedure__code=code)


def sign(appointment, code="lip-flip", **changes):
    fields = {
        "appointment": appointment,
        "form": current_form(code),
        "typed_name": appointment.patient.full_name,
        "agreed": True,
        "signature": SIGNATURE,
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (test)",
        "via": ConsentSignature.Via.PORTAL,
        "now": NOW,
    }
    fields.update(changes)
    return services.consent_sign(**fields)


def state(appointment):
    full = consent_for([appointment], now=NOW)[appointment.pk]
    # Lists read the states without the records: always the same answer.
    light = consent_for([appointment], now=NOW, records=False)[appointment.pk]
    assert [part.state for part in light.parts] == [part.state for part in full.parts]
    return full


# Signatures: the image check


def test_a_real_drawing_is_accepted_as_its_exact_bytes():
    raw = signature_png(SIGNATURE)
    assert raw == base64.b64decode(SIGNATURE.split(",", 1)[1])


@pytest.mark.parametrize(
    ("data_url", "code"),
    [
        ("", "signature_missing"),
        (drawing(strokes=False), "signature_blank"),
        ("data:image/jpeg;base64,/9j/4AAQ", "signature_invalid"),
        ("data:image/png;base64,not*base64", "signature_invalid"),
        (
            "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nnot really").decode(),
            "signature_invalid",
        ),
        (drawing(width=20, height=20), "signature_invalid"),
        ("data:image/png;base64," + "A" * 500_000, "signature_too_large"),
    ],
)
def test_bad_drawings_are_refused(data_url, code):
    with pytest.raises(ValidationError) as exc:
        signature_png(data_url)
    assert exc.value.code == code


def test_bytes_hidden_after_the_image_are_refused():
    raw = base64.b64decode(SIGNATURE.split(",", 1)[1]) + b"<script>hidden</script>"
    with pytest.raises(ValidationError) as exc:
        signature_png("data:image/png;base64," + base64.b64encode(raw).decode())
    assert exc.value.code == "signature_invalid"


def test_a_pad_painted_over_is_not_a_signature():
    black = io.BytesIO()
    Image.new("RGB", (4000, 4000), "black").save(black, "PNG")
    with pytest.raises(ValidationError) as exc:
        signature_png("data:image/png;base64," + base64.b64encode(black.getvalue()).decode())
    assert exc.value.code == "signature_filled"


def test_a_white_background_drawing_counts_dark_pixels():
    image = Image.new("RGB", (400, 150), "white")
    ImageDraw.Draw(image).line([(10, 100), (390, 20)], fill="black", width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    signature_png("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    blank = io.BytesIO()
    Image.new("RGB", (400, 150), "white").save(blank, "PNG")
    with pytest.raises(ValidationError):
        signature_png("data:image/png;base64," + base64.b64encode(blank.getvalue()).decode())


# Versioning


def test_publishing_makes_a_new_current_version_and_keeps_the_old(manager, flip, appointment):
    first = current_form("lip-flip")
    signed = sign(appointment)
    second = services.consent_form_publish(
        procedure=flip,
        title="Consent to a lip flip",
        body="New text",
        statement="I consent.",
        by=manager,
    )
    assert (first.version, second.version) == (1, 2)
    assert current_form("lip-flip") == second
    signed.refresh_from_db()
    assert signed.form == first and "A lip flip uses" in signed.text_shown
    assert ConsentForm.objects.filter(procedure=flip).count() == 2


def test_forms_are_append_only(manager):
    form = current_form("lip-flip")
    form.body = "changed"
    with pytest.raises(RecordIsFinal):
        form.save()


def test_a_form_must_have_text(manager, flip):
    with pytest.raises(ValidationError) as exc:
        services.consent_form_publish(
            procedure=flip, title="T", body=" ", statement="S", by=manager
        )
    assert exc.value.code == "form_empty"


# The gate: what an appointment still needs


def test_status_goes_missing_sent_signed(appointment, front_desk):
    assert state(appointment).state == ConsentState.MISSING
    services.consent_request_send(appointment=appointment, by=front_desk, now=NOW)
    assert state(appointment).state == ConsentState.SENT
    sign(appointment)
    assert state(appointment).state == ConsentState.SIGNED and state(appointment).is_complete


def test_combined_needs_both_forms(combined_appointment):
    sign(combined_appointment, "lip-flip")
    status = state(combined_appointment)
    assert not status.is_complete
    assert [p.procedure.code for p in status.outstanding()] == ["lip-filler"]
    sign(combined_appointment, "lip-filler")
    assert state(combined_appointment).is_complete
    assert combined_appointment.consent_signatures.count() == 2


def test_a_form_the_appointment_does_not_need_is_refused(appointment):
    with pytest.raises(ValidationError) as exc:
        sign(appointment, "lip-filler")
    assert exc.value.code == "not_needed"


def test_an_outdated_version_is_refused(appointment, manager, flip):
    old = current_form("lip-flip")
    services.consent_form_publish(procedure=flip, title="T", body="B", statement="S", by=manager)
    with pytest.raises(ValidationError) as exc:
        sign(appointment, form=old)
    assert exc.value.code == "form_outdated"


def test_void_and_withdrawal_need_a_new_signature(appointment, practitioner):
    signed = sign(appointment)
    with pytest.raises(ValidationError) as exc:
        services.consent_void(signature=signed, reason=" ", by=practitioner.user, now=NOW)
    assert exc.value.code == "consent_reason_required"
    void = services.consent_void(signature=signed, reason="Wrong patient", by=practitioner.user)
    assert (void.kind, void.supersedes, void.reason) == ("voided", signed, "Wrong patient")
    assert state(appointment).state == ConsentState.VOID
    with pytest.raises(ValidationError):
        services.consent_void(signature=signed, reason="again", by=practitioner.user)
    again = sign(appointment)
    assert state(appointment).is_complete
    services.consent_withdraw(signature=again, reason="Changed her mind", by=None)
    assert state(appointment).state == ConsentState.VOID


def test_a_cancelled_appointment_cannot_be_signed(appointment, front_desk):
    from bookings.services import appointment_cancel

    appointment_cancel(appointment=appointment, by=front_desk, reason="x", now=NOW)
    with pytest.raises(ValidationError) as exc:
        sign(appointment)
    assert exc.value.code == "appointment_closed"


# The record: evidence that never changes


def test_the_record_keeps_the_evidence_and_verifies(appointment):
    record = sign(appointment)
    record.refresh_from_db()
    assert record.text_shown == current_form("lip-flip").full_text()
    assert len(record.text_sha256) == 64 and record.verify()
    assert (record.ip_address, record.user_agent, record.signed_at) == (
        "203.0.113.9",
        "Mozilla/5.0 (test)",
        NOW,
    )
    assert bytes(record.signature_png).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text_shown", "I consent to nothing."),
        ("typed_name", "Somebody Else"),
        ("signature_png", b"\x89PNG other"),
        ("ip_address", "198.51.100.1"),
    ],
)
def test_verify_detects_tampering(appointment, field, value):
    record = sign(appointment)
    setattr(record, field, value)
    assert record.verify() is False


def test_signatures_cannot_be_changed_or_deleted_in_the_app(appointment):
    record = sign(appointment)
    record.typed_name = "x"
    with pytest.raises(RecordIsFinal):
        record.save()
    with pytest.raises(RecordIsFinal):
        ConsentSignature.objects.filter(pk=record.pk).update(typed_name="x")
    with pytest.raises(RecordIsFinal):
        record.delete()


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["treatments_consentsignature", "treatments_consentform"])
def test_postgres_refuses_raw_changes(appointment, table):
    sign(appointment)
    with (
        pytest.raises(IntegrityError, match="record is final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET statement = 'changed'")
    with (
        pytest.raises(IntegrityError, match="record is final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table}")


def test_raw_tampering_on_sqlite_is_caught_by_verify(appointment):
    record = sign(appointment)
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses the raw UPDATE itself (see the test above)")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE treatments_consentsignature SET typed_name = 'Mallory' WHERE id = %s",
            [record.pk],
        )
    assert ConsentSignature.objects.get(pk=record.pk).verify() is False


# Signing through a link


@pytest.fixture
def link(appointment, front_desk):
    request, url = services.consent_request_send(appointment=appointment, by=front_desk, now=NOW)
    return request, urlsplit(url).path


def post_sign(client, url, appointment, **changes):
    data = {
        "form_version": current_form("lip-flip").pk,
        "agreed": "on",
        "date_of_birth": appointment.patient.date_of_birth.isoformat(),
        "typed_name": appointment.patient.full_name.upper(),
        "signature": SIGNATURE,
    }
    data.update(changes)
    return client.post(url, {k: v for k, v in data.items() if v is not None})


def test_signing_through_the_link_uses_it_up(client, link, appointment):
    request, url = link
    page = client.get(url)
    assert page.status_code == 200 and "A lip flip uses" in page.content.decode()
    response = post_sign(client, url, appointment)
    assert response.status_code == 302
    record = ConsentSignature.objects.get()
    assert (record.via, record.request, record.recorded_by) == ("link", request, None)
    request.refresh_from_db()
    assert request.used_at == NOW
    done = client.get(url)
    assert "everything is signed" in done.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"agreed": None}, "agreed", "Tick the box"),
        ({"typed_name": "Hannah Healey"}, "__all__", "do not match our records"),
        ({"date_of_birth": "1990-05-18"}, "__all__", "do not match our records"),
        ({"signature": ""}, "signature", "Draw your signature"),
        ({"signature": drawing(strokes=False)}, "signature", "looks empty"),
        ({"signature": "data:image/png;base64," + "A" * 500_000}, "signature", "too large"),
    ],
)
def test_bad_input_is_marked_and_nothing_is_saved(
    client, link, appointment, changes, field, message
):
    _, url = link
    response = post_sign(client, url, appointment, **changes)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not ConsentSignature.objects.exists()


def test_a_wrong_name_or_date_of_birth_gets_one_message(client, link, appointment):
    # A right date of birth with a wrong name must not be told apart from a
    # wrong date: either answer would confirm half of a guess.
    _, url = link
    wrong_name = post_sign(client, url, appointment, typed_name="Hannah Healey")
    wrong_date = post_sign(client, url, appointment, date_of_birth="1990-05-18")
    assert wrong_name.context["form"].errors == wrong_date.context["form"].errors


def test_five_wrong_answers_close_the_link_and_tell_the_clinic(
    client, link, appointment, manager, settings, django_capture_on_commit_callbacks
):
    request, url = link
    for _ in range(settings.CONSENT_LINK_GUESSES - 1):
        assert post_sign(client, url, appointment, date_of_birth="1990-05-18").status_code == 400
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        closed = post_sign(client, url, appointment, date_of_birth="1990-05-18")
    assert closed.status_code == 403 and "This link is closed" in closed.content.decode()
    request.refresh_from_db()
    assert request.revoked_at == NOW
    (alert,) = mail.outbox
    assert alert.to == [manager.email] and "closed after 5 wrong" in alert.body
    assert appointment.patient.full_name not in alert.body  # the alert names no patient
    right = post_sign(client, url, appointment)  # now even the right answer is refused
    assert right.status_code == 403 and "This link is closed" in right.content.decode()
    assert not ConsentSignature.objects.exists()


def test_an_expired_link_changes_nothing(client, link, appointment, monkeypatch):
    _, url = link
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW + timedelta(hours=73))
    response = post_sign(client, url, appointment)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_a_tampered_link_changes_nothing(client, link, appointment):
    _, url = link
    response = post_sign(client, url[:-3] + "xx/", appointment)
    assert response.status_code == 403 and "not valid" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_a_replaced_link_stops_working(client, link, appointment, front_desk):
    _, url = link
    services.consent_request_send(appointment=appointment, by=front_desk, now=NOW)
    response = client.get(url)
    assert "replaced" in response.content.decode()


def test_a_forged_token_for_a_real_request_with_a_wrong_nonce_fails(client, link):
    request, _ = link
    request.nonce = "guessed"
    response = client.get(reverse("treatments:consent_link", args=[make_token(request)]))
    assert response.status_code == 403


def test_someone_elses_link_is_refused_to_a_logged_in_patient(client, link, patient_b, appointment):
    _, url = link
    client.force_login(patient_b.user)
    response = post_sign(client, url, appointment)
    assert response.status_code == 403 and "someone else" in response.content.decode()
    assert not ConsentSignature.objects.exists()


# Signing on the portal


def test_a_patient_signs_their_own_on_the_portal(client, patient_a, injector, flip, monkeypatch):
    history(patient_a)
    appointment = book(patient_a, injector, flip, at(D5, "11:00"))
    client.force_login(patient_a.user)
    url = reverse("treatments:portal_consent", args=[appointment.pk])
    response = post_sign(client, url, appointment, date_of_birth=None)
    assert response.status_code == 302
    record = ConsentSignature.objects.get()
    assert (record.via, record.recorded_by) == ("portal", patient_a.user)


def test_a_patient_cannot_open_another_patients_signing_page(client, patient_b, appointment):
    client.force_login(patient_b.user)
    url = reverse("treatments:portal_consent", args=[appointment.pk])
    assert client.get(url).status_code == 404
    assert post_sign(client, url, appointment).status_code == 404
    assert not ConsentSignature.objects.exists()


def test_staff_cannot_sign_for_the_patient_on_the_portal(client, front_desk, appointment):
    client.force_login(front_desk)
    assert (
        client.get(reverse("treatments:portal_consent", args=[appointment.pk])).status_code == 403
    )


# Staff pages


def test_front_desk_sends_the_link_by_email(client, front_desk, appointment):
    client.force_login(front_desk)
    response = client.post(reverse("treatments:consent_send", args=[appointment.pk]), follow=True)
    assert ConsentRequest.objects.filter(appointment=appointment).count() == 1
    email = Notification.objects.get(kind="consent")
    assert (email.to_email, email.status) == (appointment.patient.email, "pending")
    assert "/consent/" in email.body_text and "emailed to" in response.content.decode()
    send_due(now=NOW)
    assert [m.to for m in mail.outbox if "/consent/" in m.body] == [[appointment.patient.email]]


def test_the_printable_record_and_its_image(client, front_desk, appointment, patient_b):
    record = sign(appointment)
    client.force_login(front_desk)
    page = client.get(record.get_absolute_url())
    assert page.status_code == 200 and "Integrity check passed" in page.content.decode()
    image = client.get(reverse("treatments:consent_image", args=[record.pk]))
    assert image["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")
    client.force_login(patient_b.user)
    assert client.get(record.get_absolute_url()).status_code == 404
    assert client.get(reverse("treatments:consent_image", args=[record.pk])).status_code == 404


def test_voiding_through_the_page_needs_the_permission(
    client, front_desk, practitioner, appointment
):
    record = sign(appointment)
    url = reverse("treatments:consent_void", args=[record.pk])
    client.force_login(front_desk)
    assert client.get(url).status_code == 403
    client.force_login(practitioner.user)
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Signed the wrong form"}).status_code == 302
    assert state(appointment).state == ConsentState.VOID


def test_managers_publish_forms_and_front_desk_cannot(client, manager, front_desk, flip):
    url = reverse("treatments:consent_form_edit", args=[flip.pk])
    client.force_login(front_desk)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    response = client.post(url, {"title": "T2", "body": "Text", "statement": "I consent."})
    assert response.status_code == 302
    assert current_form("lip-flip").version == 2


def test_appointment_page_shows_the_consent_status(client, front_desk, appointment):
    client.force_login(front_desk)
    page = client.get(appointment.get_absolute_url()).content.decode()
    assert "Send the signing link" in page
    sign(appointment)
    assert "consent signed" in client.get(appointment.get_absolute_url()).content.decode()
