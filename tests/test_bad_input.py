"""Generated input thrown at the services and the forms (Hypothesis).

Whatever comes in: no crash (only ValidationError, with a message a person
can read), and a refusal writes nothing."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import services as bookings
from bookings.models import Appointment, AppointmentEvent
from clinic import services as people
from clinic.medical import ALL_NO, Anticoagulant
from clinic.models import MedicalHistory, Notification, Patient
from tests.factories import LotFactory
from tests.helpers import NOW, at, book, history
from tests.test_access_matrix import signed_record
from treatments import services
from treatments.models import (
    ConsentSignature,
    InjectionLine,
    Lot,
    PatientReport,
    Photo,
    Product,
    TreatmentRecord,
)
from treatments.reports import report_token
from treatments.safety.precare import Verdict, precare_check

pytestmark = pytest.mark.django_db
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(max_size=300)
names = st.text(min_size=0, max_size=120)
dates = st.dates(min_value=date(1850, 1, 1), max_value=date(2200, 1, 1))
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
amounts = st.decimals(min_value=-1000, max_value=100000, places=2, allow_nan=False)


def counts():
    models = (
        Patient,
        MedicalHistory,
        Appointment,
        AppointmentEvent,
        Notification,
        Lot,
        ConsentSignature,
        TreatmentRecord,
        InjectionLine,
        PatientReport,
        Photo,
    )
    return [model.objects.count() for model in models] + [
        list(Lot.objects.values_list("quantity_remaining", flat=True))
    ]


@contextmanager
def rolled_back():
    """Everything an example writes is undone before the next one."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def attempt(call):
    """Run `call` in a savepoint that is always rolled back. A refusal must be
    a ValidationError with readable messages, and must have written nothing."""
    with transaction.atomic():
        before = counts()
        try:
            call()
        except ValidationError as exc:
            assert exc.messages and all(m.strip() and "%(" not in m for m in exc.messages)
            assert counts() == before
        transaction.set_rollback(True)


@EXAMPLES
@given(first=names, last=names, born=dates, phone=text, email=text)
def test_patient_create(front_desk, first, last, born, phone, email):
    attempt(
        lambda: people.patient_create(
            created_by=front_desk,
            first_name=first,
            last_name=last,
            date_of_birth=born,
            phone=phone,
            email=email,
            now=NOW,
        )
    )


@EXAMPLES
@given(
    answers=st.fixed_dictionaries({k: st.booleans() for k in ALL_NO}),
    anticoagulants=st.lists(st.sampled_from([*Anticoagulant.values, "nonsense"]), max_size=4),
    other=text,
    notes=text,
    dental=st.none() | dates,
)
def test_medical_history_submit(
    patient, practitioner, answers, anticoagulants, other, notes, dental
):
    attempt(
        lambda: people.medical_history_submit(
            patient=patient,
            submitted_by=practitioner.user,
            source="staff",
            prescribed_anticoagulants=anticoagulants,
            prescribed_anticoagulant_other=other,
            notes=notes,
            dental_work_date=dental,
            **answers,
        )
    )


@EXAMPLES
@given(number=text, expiry=dates, quantity=amounts)
def test_lot_receive(manager, number, expiry, quantity):
    product = Product.objects.first()
    attempt(
        lambda: services.lot_receive(
            product=product,
            lot_number=number,
            expiry_date=expiry,
            quantity=quantity,
            received_by=manager,
            now=NOW,
        )
    )


@EXAMPLES
@given(start=moments, attestation=text, notes=text)
def test_appointment_book(healthy, injector, flip, front_desk, start, attestation, notes):
    attempt(
        lambda: bookings.appointment_book(
            patient=healthy,
            practitioner=injector,
            procedure=flip,
            starts_at=start,
            booked_by=front_desk,
            attestation=attestation,
            notes=notes,
            now=NOW,
        )
    )


@EXAMPLES
@given(start=moments, reason=text)
def test_reschedule_and_cancel(healthy, injector, flip, front_desk, start, reason):
    with rolled_back():
        appointment = book(healthy, injector, flip, at(date(2026, 12, 1), "10:00"))
        attempt(
            lambda: bookings.appointment_reschedule(
                appointment=appointment, starts_at=start, by=front_desk, now=NOW
            )
        )
        attempt(
            lambda: bookings.appointment_cancel(
                appointment=appointment, by=front_desk, reason=reason
            )
        )


@EXAMPLES
@given(name=names, signature=text, agreed=st.booleans(), born=st.none() | dates, ua=text)
def test_consent_sign(healthy, injector, flip, name, signature, agreed, born, ua):
    from tests.treatments.test_consent import current_form

    with rolled_back():
        appointment = book(healthy, injector, flip, at(date(2026, 12, 1), "10:00"))
        attempt(
            lambda: services.consent_sign(
                appointment=appointment,
                form=current_form("lip-flip"),
                typed_name=name,
                agreed=agreed,
                signature=signature,
                ip_address=None,
                user_agent=ua,
                via="link",
                date_of_birth=born,
                now=NOW,
            )
        )


@EXAMPLES
@given(
    site=st.text(max_size=10) | st.sampled_from(["TX-C", "FB-UL"]),
    amount=amounts,
    dilution=text,
    depth=text,
    needle=text,
    notes=text,
    reason=text,
    password=text,
)
def test_the_treatment_record(
    healthy, injector, flip, site, amount, dilution, depth, needle, notes, reason, password
):
    from tests.treatments.test_records import DAY, ready

    with rolled_back():
        appointment = ready(healthy, injector, flip)
        record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
        lot = LotFactory()
        attempt(
            lambda: services.injection_add(
                record=record,
                by=injector.user,
                lot=lot,
                site=site,
                amount=amount,
                depth=depth,
                needle=needle,
                dilution=dilution,
            )
        )
        attempt(
            lambda: services.record_update(
                record=record,
                by=injector.user,
                notes=notes,
                over_maximum_reason=reason,
                anaesthetic=depth,
            )
        )
        attempt(lambda: services.treatment_sign(record=record, by=injector.user, password=password))


@settings(max_examples=200, deadline=None)
@given(day=dates, booked=dates, minimum=st.integers(1, 10), extra=st.integers(0, 10))
def test_the_precare_rule_holds_for_any_dates(day, booked, minimum, extra):
    result = precare_check(
        appointment_date=day,
        booking_date=booked,
        min_days=minimum,
        recommended_days=minimum + extra,
    )
    ahead = (day - booked).days
    assert result.accepted == (ahead >= minimum)
    assert result.earliest_date == booked + timedelta(days=minimum)
    assert result.stop_date <= max(day, booked)
    if result.verdict == Verdict.OK:
        assert result.stop_date == day - timedelta(days=minimum + extra) >= booked


# Through the pages: whatever is posted, no 500 and nothing half-saved.

form_data = st.dictionaries(
    st.sampled_from(
        [
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "email",
            "reason",
            "attestation",
            "notes",
            "window_kept",
            "typed_name",
            "agreed",
            "signature",
            "form_version",
            "lot_number",
            "expiry_date",
            "quantity",
            "product",
            "lot",
            "site",
            "amount",
            "password",
            "q",
            "start",
            "practitioner",
            "procedure",
            "vision",
            "pain",
            "skin",
            "breathing",
            "concern",
            "description",
            *ALL_NO,
        ]
    ),
    st.text(max_size=60),
    max_size=12,
)


@EXAMPLES
@given(data=form_data)
def test_posting_anything_to_the_staff_forms(
    client, front_desk, manager, healthy, injector, flip, data
):
    confirm = "&".join(
        [f"procedure={flip.pk}", f"practitioner={injector.pk}", "start=2026-12-02T10:00:00%2B00:00"]
    )
    with rolled_back():
        appointment = book(healthy, injector, flip, at(date(2026, 12, 1), "10:00"))
        client.force_login(front_desk)
        for url in [
            reverse("patients:create"),
            reverse("patients:edit", args=[healthy.pk]),
            reverse("bookings:cancel", args=[appointment.pk]),
            reverse("bookings:check_in", args=[appointment.pk]),
            reverse("bookings:book_confirm", args=[healthy.pk]) + "?" + confirm,
        ]:
            with rolled_back():
                assert client.post(url, data).status_code < 500, url
        client.force_login(manager)
        with rolled_back():
            assert client.post(reverse("treatments:lot_receive"), data).status_code < 500


@EXAMPLES
@given(data=form_data)
def test_posting_anything_to_the_patient_forms(client, patient_a, injector, flip, data):
    with rolled_back():
        history(patient_a)
        appointment = book(patient_a, injector, flip, at(date(2026, 12, 1), "10:00"))
        treated = signed_record(patient_a, injector, flip, at(date(2026, 12, 2), "10:00"))
        client.force_login(patient_a.user)
        for url in [
            reverse("portal_history"),
            reverse("portal_cancel", args=[appointment.pk]),
            reverse("treatments:portal_consent", args=[appointment.pk]),
            reverse("portal_report", args=[treated.pk]),
            reverse("treatments:report_link", args=[report_token(treated)]),
        ]:
            with rolled_back():
                assert client.post(url, data).status_code < 500, url


answers = st.sampled_from([True, False, None])


@EXAMPLES
@given(
    flags=st.fixed_dictionaries(dict.fromkeys(("vision", "pain", "skin", "breathing"), answers)),
    concern=st.text(max_size=20) | st.sampled_from(["", "lump", "other"]),
    description=st.text(max_size=2100),
    via=st.sampled_from(["portal", "link", "fax"]),
)
def test_patient_report_submit(patient_a, injector, filler, flags, concern, description, via):
    with rolled_back():
        history(patient_a)
        record = signed_record(patient_a, injector, filler, at(date(2026, 12, 2), "10:00"))
        attempt(
            lambda: services.patient_report_submit(
                record=record,
                via=via,
                answers=flags,
                concern=concern,
                description=description,
                now=NOW,
            )
        )


@EXAMPLES
@given(
    data=st.binary(max_size=2000) | st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]),
    name=st.text(max_size=200),
    phase=st.sampled_from(["before", "review", "after", "", "during"]),
    view=st.sampled_from(["front", "lips", "", "top"]),
)
def test_photo_upload(healthy, injector, flip, data, name, phase, view):
    import os.path

    from django.core.files.uploadedfile import SimpleUploadedFile

    # A browser sends a file name with no folder in it; Django's upload
    # handler keeps only the last part, and refuses "", "." and "..".
    name = os.path.basename(name)
    if name in {"", ".", ".."}:
        name = "x"

    with rolled_back():
        appointment = book(healthy, injector, flip, at(date(2026, 12, 2), "10:00"))
        attempt(
            lambda: services.photo_upload(
                appointment=appointment,
                phase=phase,
                view=view,
                files=[SimpleUploadedFile(name, data)],
                by=injector.user,
                now=NOW,
            )
        )
