"""Every URL × every persona: allowed or not, in one table.

OK: the page opens (200) or does what it should (a redirect after a POST, a
400 when the body is empty). LOGIN: sent to the login page. NO: 403, not
part of the role. HIDDEN: 404, the object is not one this user may see.
`test_every_url_is_in_the_table` fails when a URL exists that the table does
not cover, so a new page cannot ship without its access decided.
"""

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bookings import services as booking_services
from bookings import waitlist
from tests.factories import LotFactory, PractitionerFactory
from tests.helpers import NOW, at, book, history, same_day, sign_consents, take_photos
from tests.two_factor import verified_login
from treatments import services
from treatments.models import (
    Complication,
    ComplicationCheckIn,
    PatientReport,
    Prescription,
    Procedure,
    TreatmentRecord,
)
from treatments.reports import report_token

pytestmark = pytest.mark.django_db

OK, LOGIN, NO, HIDDEN = "ok", "login", "no", "hidden"
PERSONAS = ["anonymous", "patient_a", "patient_b", "front_desk", "practitioner", "other", "manager"]
STAFF = {"front_desk", "practitioner", "other", "manager"}
CLINICIANS = {"practitioner", "other"}
PATIENTS = {"patient_a", "patient_b"}

# Not in the table: Django's own auth pages (public by design) and the admin,
# which has its own test (managers only).
EXEMPT = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "portal_welcome",
    "portal_welcome_done",
}


def rule(allowed, *, others=NO, patient_b=None, anonymous=LOGIN):
    """Expectations: OK for `allowed`, `others` for the rest of the logged-in
    personas (patient B may differ), `anonymous` for visitors."""
    table = {}
    for persona in PERSONAS:
        if persona == "anonymous":
            table[persona] = anonymous
        elif persona in allowed:
            table[persona] = OK
        elif persona == "patient_b" and patient_b is not None:
            table[persona] = patient_b
        else:
            table[persona] = others
    return table


EVERYONE = set(PERSONAS) - {"anonymous"}
# name: (method, kwargs builder, expectations)
MATRIX = {
    "home": ("get", lambda w: {}, rule(EVERYONE)),
    "desk_home": ("get", lambda w: {}, rule({"front_desk"})),
    "practitioner_home": ("get", lambda w: {}, rule(CLINICIANS)),
    "manager_home": ("get", lambda w: {}, rule({"manager"})),
    "manager_appointments": ("get", lambda w: {}, rule({"manager"})),
    "audit_log": ("get", lambda w: {}, rule({"manager"})),
    "portal_home": ("get", lambda w: {}, rule(PATIENTS)),
    "portal_history": ("get", lambda w: {}, rule(PATIENTS)),
    "portal_book": ("get", lambda w: {}, rule(PATIENTS)),
    "portal_texts": ("post", lambda w: {}, rule(PATIENTS)),
    "patient_texts": (
        "post",
        lambda w: {"patient_pk": w["a"].pk},
        rule({"front_desk", "practitioner", "other", "manager"}),
    ),
    # The provider's webhook: no login; a call without its signature is refused.
    "sms_inbound": ("post", lambda w: {}, rule(set(), others=NO, anonymous=NO)),
    "portal_book_confirm": (
        "get",
        lambda w: {},
        rule(PATIENTS),
    ),
    "portal_history_reconfirm": ("post", lambda w: {}, rule(PATIENTS)),
    # The public booking page (issue 16): open to all (a portal patient is
    # sent on to their own booking page); the steps after the emailed link
    # need the visitor's own verified session, which no persona has here.
    "online_book": ("get", lambda w: {}, rule(EVERYONE, anonymous=OK)),
    "online_details": ("get", lambda w: {}, rule(EVERYONE, anonymous=OK)),
    "online_check_email": ("get", lambda w: {}, rule(EVERYONE, anonymous=OK)),
    "online_verify": ("get", lambda w: {"token": "x"}, rule(EVERYONE, anonymous=OK)),
    "online_history": ("get", lambda w: {}, rule(set(), anonymous=NO)),
    "online_confirm": ("get", lambda w: {}, rule(set(), anonymous=NO)),
    "online_done": ("get", lambda w: {}, rule(set(), anonymous=NO)),
    "online_ics": ("get", lambda w: {}, rule(set(), anonymous=NO)),
    # The waitlist's claim link (no login: the signed token names the offer);
    # a bad token is a page saying so to anyone.
    "online_waitlist_claim": ("get", lambda w: {"token": "x"}, rule(EVERYONE, anonymous=OK)),
    "portal_cancel": (
        "get",
        lambda w: {"pk": w["future"].pk},
        rule({"patient_a"}, patient_b=HIDDEN),
    ),
    "portal_move": ("get", lambda w: {"pk": w["future"].pk}, rule({"patient_a"}, patient_b=HIDDEN)),
    "portal_move_confirm": (
        "get",
        lambda w: {"pk": w["future"].pk},
        rule({"patient_a"}, patient_b=HIDDEN),
    ),
    "practitioner_feed": (
        "get",
        lambda w: {"token": w["practitioner"].feed_token},
        rule(EVERYONE, anonymous=OK),
    ),
    "practitioner_feed_reset": ("post", lambda w: {}, rule(CLINICIANS)),
    "patient_invite": ("post", lambda w: {"pk": w["a"].pk}, rule(STAFF)),
    "patients:list": ("get", lambda w: {}, rule(STAFF)),
    "patients:create": ("get", lambda w: {}, rule({"front_desk", *CLINICIANS})),
    "patients:detail": ("get", lambda w: {"pk": w["a"].pk}, rule(STAFF)),
    "patients:edit": ("get", lambda w: {"pk": w["a"].pk}, rule(STAFF)),
    "patients:history": ("get", lambda w: {"pk": w["a"].pk}, rule(CLINICIANS)),
    "patients:history_new": ("get", lambda w: {"pk": w["a"].pk}, rule(CLINICIANS)),
    "patients:history_reconfirm": ("post", lambda w: {"pk": w["a"].pk}, rule(CLINICIANS)),
    "patients:history_version": (
        "get",
        lambda w: {"pk": w["a"].pk, "history_pk": w["history_a"].pk},
        rule(CLINICIANS),
    ),
    "treatments:catalog": ("get", lambda w: {}, rule(STAFF)),
    "treatments:stock": ("get", lambda w: {}, rule({*CLINICIANS, "manager"})),
    "treatments:lot_receive": ("get", lambda w: {}, rule({"manager"})),
    "treatments:recall": ("get", lambda w: {}, rule({"manager"})),
    # The emergency kit (issue 18): the clinicians and the manager check it.
    "treatments:kit": ("get", lambda w: {}, rule({*CLINICIANS, "manager"})),
    "treatments:kit_receive": ("get", lambda w: {}, rule({*CLINICIANS, "manager"})),
    "treatments:consent_forms": ("get", lambda w: {}, rule(STAFF)),
    "treatments:consent_form_edit": (
        "get",
        lambda w: {"procedure_pk": w["flip"].pk},
        rule({"manager"}),
    ),
    "treatments:consent_send": ("post", lambda w: {"appointment_pk": w["future"].pk}, rule(STAFF)),
    "treatments:consent_record": (
        "get",
        lambda w: {"pk": w["signature"].pk},
        rule({*STAFF, "patient_a"}, patient_b=HIDDEN),
    ),
    "treatments:consent_image": (
        "get",
        lambda w: {"pk": w["signature"].pk},
        rule({*STAFF, "patient_a"}, patient_b=HIDDEN),
    ),
    "treatments:consent_void": (
        "get",
        lambda w: {"pk": w["signature"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:consent_link": (
        "get",
        lambda w: {"token": w["link_token"]},
        rule({*STAFF, "patient_a"}, patient_b=NO, anonymous=OK),
    ),
    "treatments:portal_consent": (
        "get",
        lambda w: {"appointment_pk": w["future"].pk},
        rule({"patient_a"}, patient_b=HIDDEN),
    ),
    "treatments:same_day": (
        "get",
        lambda w: {"appointment_pk": w["checked_in"].pk},
        rule(CLINICIANS),
    ),
    "treatments:record_start": (
        "post",
        lambda w: {"appointment_pk": w["checked_in"].pk},
        rule(CLINICIANS),
    ),
    "treatments:record": ("get", lambda w: {"pk": w["record"].pk}, rule({*CLINICIANS, "manager"})),
    "treatments:record_save": (
        "post",
        lambda w: {"pk": w["record"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:record_line_add": ("post", lambda w: {"pk": w["record"].pk}, rule(CLINICIANS)),
    "treatments:record_line_remove": (
        "post",
        lambda w: {"pk": w["record"].pk, "line_pk": w["line"].pk},
        rule(CLINICIANS),
    ),
    "treatments:record_sign": (
        "post",
        lambda w: {"pk": w["record"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:record_addendum": (
        "post",
        lambda w: {"pk": w["record"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    # Complications (issue 18): practitioners record them; a manager reads and signs.
    "treatments:complication_new": ("post", lambda w: {"pk": w["record"].pk}, rule(CLINICIANS)),
    "treatments:complication": (
        "get",
        lambda w: {"pk": w["complication"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:complication_step": (
        "post",
        lambda w: {"pk": w["complication"].pk},
        rule(CLINICIANS),
    ),
    "treatments:complication_sign": (
        "post",
        lambda w: {"pk": w["complication"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:complications": ("get", lambda w: {}, rule({*CLINICIANS, "manager"})),
    "treatments:complication_summary": (
        "get",
        lambda w: {"pk": w["complication"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:complication_reported": (
        "post",
        lambda w: {"pk": w["complication"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:check_in_done": (
        "post",
        lambda w: {"pk": w["complication"].pk, "check_in_pk": w["check_in"].pk},
        rule(CLINICIANS),
    ),
    "treatments:chart": (
        "get",
        lambda w: {"patient_pk": w["a"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:prescriptions": (
        "get",
        lambda w: {"patient_pk": w["a"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:prescription": (
        "get",
        lambda w: {"pk": w["prescription"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    # Patients' problem reports (issue 18): the portal's form and the page
    # after it; the aftercare email's link (no login; another patient's
    # login is refused); the staff list (the front desk sees who and when)
    # and a report in full (clinicians and managers).
    "portal_report": (
        "get",
        lambda w: {"record_pk": w["signed"].pk},
        rule({"patient_a"}, patient_b=HIDDEN),
    ),
    "portal_report_sent": (
        "get",
        lambda w: {"pk": w["report"].pk},
        rule({"patient_a"}, patient_b=HIDDEN),
    ),
    "treatments:report_link": (
        "get",
        lambda w: {"token": w["report_token"]},
        rule({*STAFF, "patient_a"}, patient_b=NO, anonymous=OK),
    ),
    "treatments:report_link_sent": (
        "get",
        lambda w: {"token": w["report_token"]},
        rule({*STAFF, "patient_a"}, patient_b=NO, anonymous=OK),
    ),
    "treatments:reports": ("get", lambda w: {}, rule(STAFF)),
    "treatments:report": ("get", lambda w: {"pk": w["report"].pk}, rule({*CLINICIANS, "manager"})),
    # Clinical photos (issue 19): practitioners take them; managers see them;
    # the front desk and patients never do, the bytes included.
    "treatments:photos": (
        "get",
        lambda w: {"appointment_pk": w["record"].appointment_id},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:photo_upload": (
        "post",
        lambda w: {"appointment_pk": w["record"].appointment_id},
        rule(CLINICIANS),
    ),
    "treatments:photo_compare": (
        "get",
        lambda w: {"patient_pk": w["a"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:photo_image": (
        "get",
        lambda w: {"pk": w["photo"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:photo_thumbnail": (
        "get",
        lambda w: {"pk": w["photo"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    # Photo consent (issue 19): clinicians and managers read and record it
    # (the patient signs on their tablet); patients sign and withdraw their
    # own on the portal; the library (photos outside the record) follows it.
    "treatments:photo_consent": (
        "get",
        lambda w: {"patient_pk": w["a"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:photo_consent_withdraw": (
        "post",
        lambda w: {"patient_pk": w["a"].pk},
        rule({*CLINICIANS, "manager"}),
    ),
    "treatments:portal_photo_consent": ("get", lambda w: {}, rule(PATIENTS)),
    "treatments:portal_photo_consent_withdraw": ("post", lambda w: {}, rule(PATIENTS)),
    "treatments:photo_library": ("get", lambda w: {}, rule({*CLINICIANS, "manager"})),
    # Withdrawing: an independent prescriber (neither practitioner here is) or a manager.
    "treatments:prescription_withdraw": (
        "post",
        lambda w: {"pk": w["prescription"].pk},
        rule({"manager"}),
    ),
    "bookings:day": ("get", lambda w: {}, rule(STAFF)),
    "bookings:week": ("get", lambda w: {}, rule(STAFF)),
    "bookings:book": ("get", lambda w: {}, rule(STAFF)),
    "outbox": ("get", lambda w: {}, rule({"front_desk", "manager"})),
    "bookings:book_patient": ("get", lambda w: {"patient_pk": w["a"].pk}, rule(STAFF)),
    "bookings:book_chosen_time": ("get", lambda w: {"patient_pk": w["a"].pk}, rule(STAFF)),
    "bookings:book_confirm": ("get", lambda w: {"patient_pk": w["a"].pk}, rule(STAFF)),
    "bookings:appointment": ("get", lambda w: {"pk": w["future"].pk}, rule(STAFF)),
    "bookings:move": ("get", lambda w: {"pk": w["future"].pk}, rule(STAFF)),
    "bookings:move_chosen_time": ("get", lambda w: {"pk": w["future"].pk}, rule(STAFF)),
    "bookings:move_confirm": ("get", lambda w: {"pk": w["future"].pk}, rule(STAFF)),
    "bookings:cancel": ("get", lambda w: {"pk": w["future"].pk}, rule(STAFF)),
    "bookings:check_in": ("get", lambda w: {"pk": w["future"].pk}, rule(STAFF)),
    "bookings:no_show": ("post", lambda w: {"pk": w["future"].pk}, rule(STAFF)),
    # The waitlist (issue 16): the front desk and managers keep it.
    "bookings:waitlist": ("get", lambda w: {}, rule({"front_desk", "manager"})),
    "bookings:waitlist_edit": (
        "get",
        lambda w: {"pk": w["waitlist"].pk},
        rule({"front_desk", "manager"}),
    ),
    "bookings:waitlist_add": (
        "get",
        lambda w: {"patient_pk": w["a"].pk},
        rule({"front_desk", "manager"}),
    ),
    "portal_waitlist": ("get", lambda w: {}, rule(PATIENTS)),
    "portal_waitlist_earlier": (
        "post",
        lambda w: {"pk": w["future"].pk},
        rule({"patient_a"}, patient_b=HIDDEN),
    ),
    "online_waitlist_earlier": ("post", lambda w: {}, rule(set(), anonymous=NO)),
    "portal_waitlist_remove": (
        "post",
        lambda w: {"pk": w["waitlist"].pk},
        rule({"patient_a"}, patient_b=HIDDEN),
    ),
    "accounts:security": ("get", lambda w: {}, rule(EVERYONE)),
    "accounts:sessions_end": ("post", lambda w: {}, rule(EVERYONE)),
    "accounts:two_factor": ("get", lambda w: {}, rule(EVERYONE)),
    "accounts:verify": ("get", lambda w: {}, rule(EVERYONE)),
    "accounts:setup": ("get", lambda w: {}, rule(EVERYONE)),
    "accounts:codes": ("get", lambda w: {}, rule(EVERYONE)),
    "accounts:new_codes": ("post", lambda w: {}, rule(EVERYONE)),
    "accounts:off": ("post", lambda w: {}, rule(EVERYONE)),
    "accounts:staff": ("get", lambda w: {}, rule({"manager"})),
    "accounts:staff_policy": ("post", lambda w: {}, rule({"manager"})),
    "accounts:staff_mark": (
        "post",
        lambda w: {"pk": w["users"]["front_desk"].pk},
        rule({"manager"}),
    ),
    "accounts:staff_sessions_end": (
        "post",
        lambda w: {"pk": w["users"]["front_desk"].pk},
        rule({"manager"}),
    ),
    "privacy:portal_data": ("get", lambda w: {}, rule(PATIENTS)),
    "privacy:patient_export": ("post", lambda w: {"pk": w["a"].pk}, rule({"manager"})),
    "privacy:patient_erasure": ("get", lambda w: {"pk": w["a"].pk}, rule({"manager"})),
    # Without a tablet session there is nothing to sign; the lock is public.
    "treatments:tablet_sign": ("get", lambda w: {}, rule(set(), others=HIDDEN, anonymous=HIDDEN)),
    "treatments:tablet_locked": ("get", lambda w: {}, rule(EVERYONE, anonymous=OK)),
    # Last: handing the tablet over logs the persona out.
    "treatments:tablet_start": (
        "post",
        lambda w: {"appointment_pk": w["future"].pk},
        rule({"front_desk", "practitioner", "other", "manager"}),
    ),
}


def _named_routes(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            name = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _named_routes(pattern.url_patterns, name)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_is_in_the_table():
    routes = {
        name for name in _named_routes(get_resolver().url_patterns) if not name.startswith("admin:")
    }
    assert routes - EXEMPT - set(MATRIX) == set(), "add these URLs to the access matrix"
    assert set(MATRIX) - routes == set(), "these matrix rows name URLs that no longer exist"


@pytest.fixture
def world(
    patient_a,
    patient_b,
    practitioner,
    other_practitioner,
    front_desk,
    manager,
    injector,
    flip,
    filler,
):
    history_a = history(patient_a)
    history(patient_b)
    # Filler: a second lip flip 5 days after today's would break the toxin gap.
    future = book(patient_a, practitioner, filler, at(date(2026, 12, 1), "10:00"))
    book(patient_b, practitioner, flip, at(date(2026, 12, 1), "11:00"))
    _, link = services.consent_request_send(appointment=future, by=front_desk, now=NOW)
    (signature,) = sign_consents(future)
    today = book(patient_a, practitioner, flip, at(date(2026, 11, 26), "15:00"), attestation="yes")
    sign_consents(today)
    booking_services.appointment_check_in(
        appointment=today, by=front_desk, now=at(date(2026, 11, 26), "14:55")
    )
    same_day(today, now=NOW)
    record = services.treatment_start(appointment=today, by=practitioner.user, now=NOW)
    line = services.injection_add(
        record=record,
        by=practitioner.user,
        lot=LotFactory(),
        site="TX-C",
        amount=2,
        depth="intramuscular",
        needle="33G needle",
        dilution="100 U in 2.5 mL",
        now=NOW,
    )
    checked_in = book(
        patient_b, practitioner, flip, at(date(2026, 11, 26), "16:00"), attestation="y"
    )
    sign_consents(checked_in)
    booking_services.appointment_check_in(
        appointment=checked_in,
        by=front_desk,
        now=at(date(2026, 11, 26), "15:55"),
    )
    signed = signed_record(patient_a, practitioner, filler, at(date(2026, 11, 30), "10:00"))
    complication = Complication.objects.create(
        record=record,
        patient=record.patient,
        kind=Complication.Kind.OTHER,
        opened_at=NOW,
        opened_by=practitioner.user,
    )
    (photo,) = take_photos(today)
    entry = waitlist.waitlist_join(
        patient=patient_a,
        procedure=Procedure.objects.get(code="lip-flip"),
        earliest=date(2026, 12, 1),
        latest=date(2026, 12, 10),
        by=front_desk,
        now=NOW,
    )
    return {
        "waitlist": entry,
        "photo": photo,
        "a": patient_a,
        "signed": signed,
        "report": PatientReport.objects.create(
            patient=patient_a,
            record=signed,
            via=PatientReport.Via.PORTAL,
            concern=PatientReport.Concern.SWELLING,
            vision=False,
            pain=False,
            skin=False,
            breathing=False,
        ),
        "report_token": report_token(signed),
        "history_a": history_a,
        "future": future,
        "signature": signature,
        "link_token": urlsplit(link).path.split("/")[2],
        "record": record,
        "complication": complication,
        "check_in": ComplicationCheckIn.objects.create(complication=complication, due_at=NOW),
        "line": line,
        "prescription": Prescription.objects.get(patient=patient_a),
        "checked_in": checked_in,
        "practitioner": practitioner,
        "flip": Procedure.objects.get(code="lip-flip"),
        "users": {
            "patient_a": patient_a.user,
            "patient_b": patient_b.user,
            "front_desk": front_desk,
            "practitioner": practitioner.user,
            "other": other_practitioner.user,
            "manager": manager,
        },
    }


def signed_record(patient, practitioner, procedure, starts_at):
    """A signed treatment record from yesterday, written straight to the
    database (the pages only read it)."""
    appointment = book(patient, practitioner, procedure, starts_at)
    return TreatmentRecord.objects.create(
        appointment=appointment,
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        started_at=NOW - timedelta(days=1),
        medical_history=patient.histories.first(),
        status=TreatmentRecord.Status.SIGNED,
        signed_at=NOW - timedelta(days=1),
        signed_by=practitioner.user,
    )


def outcome(response):
    if response.status_code == 302 and urlsplit(response.url).path == reverse("login"):
        return LOGIN
    if response.status_code == 403:
        return NO
    if response.status_code == 404:
        return HIDDEN
    assert response.status_code < 500, response
    return OK


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_access_matrix(client, world, persona, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    wrong = []
    for name, (method, kwargs, expected) in MATRIX.items():
        url = reverse(name, kwargs=kwargs(world))
        with transaction.atomic():
            response = getattr(client, method)(url)
            transaction.set_rollback(True)  # each URL sees the same world
        got = outcome(response)
        if got != expected[persona]:
            wrong.append(
                f"{name}: expected {expected[persona]}, got {got} ({response.status_code})"
            )
    assert wrong == []


def test_another_practitioners_patient_is_visible_to_all_clinicians(client, world):
    # Clinic-wide by design: any practitioner may cover a colleague's patient.
    other = PractitionerFactory()
    client.force_login(other.user)
    assert client.get(reverse("treatments:record", args=[world["record"].pk])).status_code == 200


def test_identity_comes_from_the_session_not_the_body(client, world, patient_b):
    client.force_login(patient_b.user)
    client.post(
        reverse("portal_history_reconfirm"),
        {"patient": world["a"].pk, "user": world["users"]["patient_a"].pk},
    )
    assert world["a"].histories.count() == 1  # A's history untouched
    assert patient_b.histories.count() == 2  # B re-confirmed their own


def test_admin_is_for_managers_only(client, world):
    for persona, code in [
        ("front_desk", 302),
        ("practitioner", 302),
        ("patient_a", 302),
        ("manager", 200),
    ]:
        client.force_login(world["users"][persona])
        if persona == "manager":
            world["users"][persona].is_staff = True
            world["users"][persona].save()
            # The admin needs a second factor: first set one up, then it opens.
            assert client.get(reverse("admin:index")).url.startswith(reverse("accounts:setup"))
            verified_login(client, world["users"][persona])
        assert client.get(reverse("admin:index")).status_code == code, persona
