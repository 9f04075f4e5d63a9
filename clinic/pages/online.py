"""The public booking page (issue 16): anyone picks a procedure and a free
time without logging in; someone not yet a patient gives their details, the
time is held for them (bookings.services.appointment_hold), they prove their
email with a signed link, answer the medical history, and book under every
rule of the safety engine's PATIENT_BOOK step, then sign the consent at once.

What the visitor is doing lives in their session (the sign-up row and the
hold), never in the URL, so no address here names a patient or a booking.
The pages say the same whether or not the details match a patient on file:
the email is the same, the steps are the same, and nothing on file is shown.
"""

import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from bookings import messages as appointment_messages
from bookings import services, waitlist
from bookings.availability import first_compliant_slots
from bookings.forms import ConfirmForm, ProposalForm, SlotSearchForm
from bookings.ics import appointment_ics
from bookings.models import Appointment, OnlineSignup
from bookings.online import offered_online
from bookings.views.booking import slot_days
from bookings.views.common import SLOT_DAYS
from clinic import services as clinic_services
from clinic.access import client_ip
from clinic.accounts.models import Attempt
from clinic.accounts.services import attempt_record, attempts_since
from clinic.flash import call_service
from clinic.forms import MedicalHistoryForm, PatientForm, post_data
from clinic.models import MedicalHistory, OnlineBookingSettings, Practitioner, User
from clinic.refusals import Refusal
from clinic.roles import Role
from treatments.consent import make_token
from treatments.models import Procedure
from treatments.safety.engine import Step
from treatments.services.consent import consent_request_send

SESSION_KEY = "online_booking"
TOKEN_SALT = "vermilion.online-booking.verify"
HOUR = timedelta(hours=1)
# One client address may start this many times more bookings than one email.
ADDRESS_FACTOR = 10
# Screening refusals, said to a patient: the clinic's staff-facing wording
# names the history's findings, which are for a practitioner to discuss.
SCREENING_CODES = {"contraindicated", "ruled_out", "product_contraindicated"}

TOO_MANY_TRIES = Refusal(
    "online_too_many",
    "Too many online bookings have been started from here in the last hour. Try again in an "
    "hour, or call us on %(phone)s and we will book you in.",
)
CALL_US = Refusal(
    "online_call_us",
    "From your answers we cannot book %(procedure)s online. Please call us on %(phone)s: a "
    "practitioner will talk it through with you.",
)
NO_NEW_PATIENTS = Refusal(
    "online_no_new_patients",
    "New patients book by phone for now: call us on %(phone)s. If you have a portal login, "
    "log in to book.",
)
LINK_BAD = Refusal(
    "online_link_bad",
    "This link is not complete or has been changed. Open the newest email from us and tap the "
    "link again, or start again from the booking page.",
)
LINK_EXPIRED = Refusal(
    "online_link_expired",
    "This link has expired (it lasts %(minutes)s minutes). Start again from the booking page: "
    "it takes a minute.",
)
SESSION_GONE = Refusal(
    "online_session_gone",
    "We could not find your booking in this browser. Open the link from our email in this "
    "browser, or start again from the booking page.",
)


def _phone():
    return {"phone": settings.CLINIC_PHONE}


def _offered():
    return Procedure.objects.active().filter(online_booking=True).with_parts()


def _state(request):
    return request.session.get(SESSION_KEY) or {}


def _throttled(request, *, kind, key, limit):
    """Count one try; whether this key has gone past `limit` in the hour."""
    return attempt_record(kind=kind, key=key or "-", window=HOUR) > limit


@never_cache
def online_book(request):
    """Procedures, then free times by day, soonest first: only times that
    leave the procedure's full recommended pre-care window, with
    practitioners who take online bookings, within the clinic's online-booking
    settings (least notice, days ahead; bookings.online).
    Portal patients are sent to their own booking page (their history and
    past treatments count there)."""
    user = request.user
    if user.is_authenticated and user.has_role(Role.PATIENT):
        query = request.GET.urlencode()
        return redirect(reverse("portal_book") + (f"?{query}" if query else ""))
    now = timezone.now()
    procedures = list(_offered())
    search = SlotSearchForm(request.GET)
    search.fields["procedure"].queryset = _offered()
    procedure = search.cleaned_data["procedure"] if search.is_valid() else None
    context = {"procedures": procedures, "procedure": procedure}
    if procedure is not None:
        on_or_after = search.cleaned_data.get("on_or_after")
        result = first_compliant_slots(
            procedure=procedure,
            practitioners=list(Practitioner.objects.active().filter(online_booking=True)),
            days=SLOT_DAYS,
            on_or_after=on_or_after,
            now=now,
        )
        slots = offered_online(result.slots, recommended_date=result.recommended_date, now=now)
        today = timezone.localdate(now)
        later = max(result.recommended_date, on_or_after or today) + timedelta(days=SLOT_DAYS)
        context.update(
            days=slot_days(slots, confirm_url=reverse("online_details"), procedure=procedure),
            later_url=f"?{urlencode({'procedure': procedure.pk, 'on_or_after': later})}",
            recommended_days=procedure.timing.precare_recommended_days,
        )
    return render(request, "clinic/online_book.html", context)


class NewcomerForm(PatientForm):
    """Who is booking. `website` is a honeypot: hidden from people, filled by
    bots; a filled one is answered as if all went well, and nothing is done."""

    website = forms.CharField(label=_("Leave this empty"), required=False)
    field_for_code = {
        **PatientForm.field_for_code,
        "under_age": "date_of_birth",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.required = True
        email.help_text = _("We send a link to it: open it to go on with your booking.")
        email.widget.attrs["autocomplete"] = "email"
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["date_of_birth"].widget.attrs["autocomplete"] = "bday"
        self.fields["website"].widget.attrs.update(
            {"tabindex": "-1", "autocomplete": "off", "class": "form-control"}
        )


def _proposal(request):
    proposal = ProposalForm(request.GET)
    proposal.fields["procedure"].queryset = Procedure.objects.active().filter(online_booking=True)
    proposal.fields["practitioner"].queryset = (
        Practitioner.objects.active().filter(online_booking=True).select_related("user")
    )
    return proposal.cleaned_data if proposal.is_valid() else None


def _send_link(request, signup, hold):
    token = signing.dumps({"s": signup.pk, "n": signup.nonce}, salt=TOKEN_SALT, compress=True)
    context = {
        "signup": signup,
        "patient": signup,
        "hold": hold,
        "url": request.build_absolute_uri(reverse("online_verify", args=[token])),
        "minutes": settings.ONLINE_BOOKING_LINK_MINUTES,
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
    }
    email = EmailMultiAlternatives(
        subject=f"Your booking at {settings.CLINIC_NAME}: confirm your email",
        body=render_to_string("emails/online_verify.txt", context),
        to=[signup.email],
    )
    email.attach_alternative(render_to_string("emails/online_verify.html", context), "text/html")
    email.send()


@never_cache
def online_details(request):
    """Name, date of birth, email and phone for the time picked; the time is
    held; a link goes to the email."""
    data = _proposal(request)
    if data is None:
        messages.error(request, "That time could not be read. Pick one again.")
        return redirect("online_book")
    form = NewcomerForm(post_data(request))
    allowed = OnlineBookingSettings.current().new_patients
    if request.method == "POST" and allowed and form.is_valid():
        if form.cleaned_data["website"]:
            return redirect("online_check_email")
        limit = settings.ONLINE_BOOKINGS_PER_HOUR
        email = form.cleaned_data["email"].strip().lower()
        per_email = _throttled(request, kind=Attempt.Kind.BOOK_EMAIL, key=email, limit=limit)
        per_address = _throttled(
            request,
            kind=Attempt.Kind.BOOK_ADDRESS,
            key=client_ip(request),
            limit=limit * ADDRESS_FACTOR,
        )
        if per_email or per_address:
            form.add_error(None, TOO_MANY_TRIES.error(**_phone()))
        elif (
            form.call_service(
                clinic_services.patient_online_check,
                **{k: form.cleaned_data[k] for k in clinic_services.PATIENT_FIELDS},
            )
            is None
            and not form.errors
        ):
            details = {k: form.cleaned_data[k] for k in ("first_name", "last_name")}
            hold = form.call_service(
                services.appointment_hold,
                practitioner=data["practitioner"],
                procedure=data["procedure"],
                starts_at=data["start"],
                by=User.objects.online_booking(),
                newcomer={
                    "name": f"{details['first_name']} {details['last_name']}".strip(),
                    "date_of_birth": form.cleaned_data["date_of_birth"],
                },
            )
            if hold is not None:
                signup = OnlineSignup.objects.create(
                    hold=hold,
                    email=email,
                    phone=form.cleaned_data["phone"],
                    date_of_birth=form.cleaned_data["date_of_birth"],
                    nonce=secrets.token_urlsafe(24),
                    **details,
                )
                _send_link(request, signup, hold)
                request.session[SESSION_KEY] = {"signup": signup.pk}
                return redirect("online_check_email")
    return render(
        request,
        "clinic/online_details.html",
        {
            "proposal": data,
            "form": form,
            "allowed": allowed,
            "closed": NO_NEW_PATIENTS.text(**_phone()),
            "hold_minutes": settings.BOOKING_HOLD_MINUTES,
        },
    )


@never_cache
def online_check_email(request):
    return render(
        request,
        "clinic/online_check_email.html",
        {
            "minutes": settings.ONLINE_BOOKING_LINK_MINUTES,
            "hold_minutes": settings.BOOKING_HOLD_MINUTES,
        },
    )


def _problem(request, refusal, *, status=400, **params):
    return render(
        request,
        "clinic/online_problem.html",
        {"message": refusal.text(**params)},
        status=status,
    )


def _read_link(token):
    """(OnlineSignup, None) or (None, the refusal)."""
    try:
        data = signing.loads(
            token, salt=TOKEN_SALT, max_age=settings.ONLINE_BOOKING_LINK_MINUTES * 60
        )
    except signing.SignatureExpired:
        return None, LINK_EXPIRED
    except signing.BadSignature:
        return None, LINK_BAD
    if not isinstance(data, dict):
        return None, LINK_BAD
    signup = OnlineSignup.objects.filter(pk=data.get("s"), nonce=str(data.get("n"))).first()
    return (signup, None) if signup is not None else (None, LINK_BAD)


@never_cache
def online_verify(request, token):
    """The emailed link: the email is proved. The details become the patient
    (the one on file with the same name, date of birth and email, or a new
    one: the visitor cannot tell which), the hold is kept longer, and the
    history comes next. Opening it twice does the same again."""
    limit = settings.ONLINE_BOOKINGS_PER_HOUR * ADDRESS_FACTOR
    address = client_ip(request) or "-"
    if (
        attempts_since(kind=Attempt.Kind.VERIFY_ADDRESS, key=address, since=timezone.now() - HOUR)
        >= limit
    ):
        return _problem(request, TOO_MANY_TRIES, status=429, **_phone())
    signup, refusal = _read_link(token)
    if refusal is not None:
        attempt_record(kind=Attempt.Kind.VERIFY_ADDRESS, key=address, window=HOUR)
        params = {"minutes": settings.ONLINE_BOOKING_LINK_MINUTES}
        return _problem(request, refusal, status=410 if refusal is LINK_EXPIRED else 400, **params)
    try:
        services.hold_extend(hold_pk=signup.hold_id)
    except ValidationError as exc:
        return render(
            request,
            "clinic/online_problem.html",
            {"message": " ".join(exc.messages), "again": True},
            status=410,
        )
    if signup.patient_id is None:
        patient = clinic_services.patient_online_sign_up(
            first_name=signup.first_name,
            last_name=signup.last_name,
            date_of_birth=signup.date_of_birth,
            email=signup.email,
            phone=signup.phone,
        )
        signup.patient = patient
        signup.verified_at = timezone.now()
        signup.save(update_fields=["patient", "verified_at"])
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"signup": signup.pk, "verified": True}
    return redirect("online_history")


def _verified(request):
    """The visitor's proved sign-up, or None."""
    state = _state(request)
    if not state.get("verified"):
        return None
    return (
        OnlineSignup.objects.select_related("patient")
        .filter(pk=state.get("signup"), patient__isnull=False)
        .first()
    )


def _submitter(patient):
    return patient.user if patient.user_id else User.objects.online_booking()


@never_cache
def online_history(request):
    """The portal's questionnaire, blank: what is on file is never shown to
    a visitor, whoever they turn out to be."""
    signup = _verified(request)
    if signup is None:
        return _problem(request, SESSION_GONE, status=403)
    form = MedicalHistoryForm(post_data(request))
    if (
        request.method == "POST"
        and form.is_valid()
        and form.save(
            patient=signup.patient,
            user=_submitter(signup.patient),
            source=MedicalHistory.Source.PATIENT,
        )
    ):
        state = _state(request)
        request.session[SESSION_KEY] = {**state, "history": True}
        return redirect("online_confirm")
    return render(request, "clinic/online_history.html", {"form": form})


def _patient_refusal(exc, procedure):
    """A refusal as the patient reads it: the screening's in plain words."""
    codes = {e.code for e in exc.error_list}
    if codes & SCREENING_CODES:
        return [CALL_US.text(procedure=procedure, **_phone())]
    return exc.messages


@never_cache
def online_confirm(request):
    """Every rule once more, then the booking: a refusal says what to do; a
    caution is booked and flagged for the practitioner."""
    signup = _verified(request)
    if signup is None or not _state(request).get("history"):
        return _problem(request, SESSION_GONE, status=403)
    patient = signup.patient
    hold = (
        Appointment.with_holds.select_related("procedure", "practitioner")
        .filter(pk=signup.hold_id, status=Appointment.Status.HELD)
        .first()
    )
    if hold is None:
        return render(
            request,
            "clinic/online_problem.html",
            {
                "message": services.HOLD_GONE.text(minutes=settings.BOOKING_HOLD_MINUTES),
                "again": True,
            },
            status=410,
        )
    form = ConfirmForm(post_data(request))
    refusal = None
    if request.method == "POST":
        limit = settings.ONLINE_BOOKINGS_PER_HOUR * ADDRESS_FACTOR
        if _throttled(
            request, kind=Attempt.Kind.CONFIRM_ADDRESS, key=client_ip(request), limit=limit
        ):
            refusal = [TOO_MANY_TRIES.text(**_phone())]
        else:
            try:
                booked = services.hold_book(
                    hold_pk=hold.pk, patient=patient, by=_submitter(patient)
                )
            except ValidationError as exc:
                refusal = _patient_refusal(exc, hold.procedure)
            else:
                link, _ = consent_request_send(appointment=booked, by=_submitter(patient))
                consent = reverse("treatments:consent_link", args=[make_token(link)])
                request.session[SESSION_KEY] = {"done": booked.pk, "consent": consent}
                return redirect("online_done")
    assessment = None
    if refusal is None:
        try:
            assessment = services.assess(
                patient=patient,
                practitioner=hold.practitioner,
                procedure=hold.procedure,
                starts_at=hold.starts_at,
                ignore=hold,
                step=Step.PATIENT_BOOK,
            )
        except ValidationError as exc:
            refusal = _patient_refusal(exc, hold.procedure)
    instructions = appointment_messages.assessment_instructions(assessment)
    return render(
        request,
        "clinic/online_confirm.html",
        {
            "hold": hold,
            "form": form,
            "refusal": refusal,
            "instructions": instructions,
        },
    )


def _done(request):
    state = _state(request)
    appointment = (
        Appointment.objects.select_related("procedure", "practitioner", "patient")
        .filter(pk=state.get("done"))
        .first()
        if state.get("done")
        else None
    )
    return appointment, state.get("consent")


@never_cache
def online_done(request):
    appointment, consent_url = _done(request)
    if appointment is None:
        return _problem(request, SESSION_GONE, status=403)
    instructions = appointment_messages.precare_instructions(
        appointment, anticoagulants=appointment_messages.anticoagulants_of(appointment.patient)
    )
    return render(
        request,
        "clinic/online_done.html",
        {"appointment": appointment, "consent_url": consent_url, "instructions": instructions},
    )


@require_POST
def online_waitlist_earlier(request):
    """After booking online: "email me if an earlier time opens", for the
    appointment this visitor just booked (their session names it)."""
    appointment, _ = _done(request)
    if appointment is None:
        return _problem(request, SESSION_GONE, status=403)
    call_service(
        request,
        waitlist.waitlist_join_earlier,
        success="We will email you if an earlier time opens; your appointment stays booked "
        "until you take one.",
        appointment=appointment,
        by=_submitter(appointment.patient),
    )
    return redirect("online_done")


@never_cache
def online_ics(request):
    appointment, _ = _done(request)
    if appointment is None:
        return _problem(request, SESSION_GONE, status=403)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


# The waitlist's claim link (bookings.waitlist): no login, the signed token
# names the offer; a logged-in patient may open only their own.


def _claim_problem(request, message, *, procedure=None, status=200):
    return render(
        request,
        "clinic/waitlist_problem.html",
        {"message": message, "procedure": procedure},
        status=status,
    )


@never_cache
def online_waitlist_claim(request, token):
    """An offered time: GET shows it (a mail scanner opening the link books
    nothing), POST books it through the booking service. Every way it can
    fail (a changed link, an old one, a time someone else took first) is a
    page saying so, with a way to book another time; never an error."""
    offer, refusal = waitlist.read_offer_token(token)
    if refusal is not None:
        expired = refusal is waitlist.OFFER_EXPIRED
        return _claim_problem(
            request,
            refusal.text(hours=settings.WAITLIST_OFFER_HOURS),
            status=410 if expired else 400,
        )
    entry = offer.entry
    patient, procedure = entry.patient, entry.procedure
    user = request.user
    if user.is_authenticated and user.has_role(Role.PATIENT) and patient.user_id != user.pk:
        return _claim_problem(
            request,
            "This link was sent to someone else. Book from your own page instead.",
            procedure=procedure,
            status=403,
        )
    by = _submitter(patient)
    form = ConfirmForm(post_data(request))
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            booked = waitlist.waitlist_claim(offer=offer, by=by)
        except ValidationError as exc:
            refusal = _patient_refusal(exc, procedure)
        else:
            link, _ = consent_request_send(appointment=booked, by=by)
            consent = reverse("treatments:consent_link", args=[make_token(link)])
            request.session[SESSION_KEY] = {"done": booked.pk, "consent": consent}
            return redirect("online_done")
    if refusal is None:
        if offer.claimed_at is not None:
            refusal = [waitlist.OFFER_USED.text()]
        elif entry.status != entry.Status.WAITING:
            refusal = [waitlist.OFFER_CLOSED.text(procedure=procedure, **_phone())]
    assessment = moving = None
    if refusal is None:
        try:
            moving, assessment = waitlist.claim_preview(offer)
        except ValidationError as exc:
            codes = {e.code for e in exc.error_list}
            taken = {services.SLOT_TAKEN.code, services.IN_PAST.code}
            refusal = (
                [waitlist.OFFER_TAKEN.text()] if codes & taken else _patient_refusal(exc, procedure)
            )
    return render(
        request,
        "clinic/waitlist_claim.html",
        {
            "offer": offer,
            "procedure": procedure,
            "moving": moving,
            "form": form,
            "refusal": refusal,
            "instructions": appointment_messages.assessment_instructions(assessment),
        },
    )
