from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import quote_plus, urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from bookings import ics, services
from bookings.availability import Schedule, first_compliant_slots
from bookings.calendar import Column, build_grid
from bookings.forms import (
    CheckInForm,
    ChosenTimeForm,
    ConfirmForm,
    ProposalForm,
    SlotSearchForm,
)
from bookings.models import Appointment
from bookings.safety import patient_window
from clinic.access import permission_required, role_required
from clinic.audit import log_view
from clinic.flash import call_service
from clinic.forms import ReasonForm, post_data
from clinic.models import (
    AuditEvent,
    MedicalHistory,
    Patient,
    Practitioner,
    new_feed_token,
)
from clinic.params import SearchField, day_param, read_query
from clinic.roles import Role
from treatments.consent import attach_consent, consent_for
from treatments.models import Procedure, TreatmentRecord
from treatments.screening import screen_patient

SLOT_DAYS = 7  # days of free slots shown at once
CALENDAR_FIELDS = [
    "status",
    "starts_at",
    "ends_at",
    "blocked_until",
    "procedure_id",
    "on_anticoagulants",
    "screening_outcome",
    "precare_flag",
    "history_state",
    "patient__first_name",
    "patient__last_name",
    "practitioner__display_name",
    "practitioner__colour",
]
QUARTER = 15


def _appointments(request):
    return (
        Appointment.objects.visible_to(request.user)
        .select_related("patient", "practitioner", "procedure")
        .prefetch_related("procedure__components")
        .with_history()
    )


def _calendar_appointments(appointments, *, first_day, last_day):
    """A calendar's appointments, consent states attached. A busy day has
    hundreds, so they are read lean: only the columns a calendar shows (the
    page's query-count test catches one missed), and the few procedures loaded
    once and shared rather than joined to every row."""
    procedures = {p.pk: p for p in Procedure.objects.with_parts()}
    appointments = list(
        appointments.select_related("patient", "practitioner")
        .only(*CALENDAR_FIELDS)
        .with_history()
        .starting_between(first_day, last_day)
    )
    for appointment in appointments:
        appointment.procedure = procedures[appointment.procedure_id]
    return attach_consent(appointments, now=timezone.now())


# Calendars


@permission_required("bookings.view_appointment")
def day_calendar(request):
    day = day_param(request)
    schedule = Schedule.load(first_day=day, last_day=day)
    appointments = _calendar_appointments(
        Appointment.objects.visible_to(request.user), first_day=day, last_day=day
    )
    by_practitioner = defaultdict(list)
    for appointment in appointments:
        if appointment.is_active:
            by_practitioner[appointment.practitioner_id].append(appointment)
    practitioners = dict(schedule.practitioners)
    for appointment in appointments:
        practitioners.setdefault(appointment.practitioner_id, appointment.practitioner)
    columns = [
        Column(
            label=str(practitioner),
            day=day,
            spans=schedule.working_spans(pk, day),
            appointments=by_practitioner[pk],
            practitioner=practitioner,
        )
        for pk, practitioner in sorted(practitioners.items(), key=lambda item: str(item[1]))
        if by_practitioner[pk] or schedule.working_spans(pk, day)
    ]
    return render(
        request,
        "bookings/day.html",
        {
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "today": timezone.localdate(),
            "columns": columns,
            "rows": build_grid(columns),
            "inactive": [a for a in appointments if not a.is_active],
        },
    )


@permission_required("bookings.view_appointment")
def week_calendar(request):
    practitioners = list(Practitioner.objects.active())
    chosen = request.GET.get("practitioner")
    practitioner = next((p for p in practitioners if str(p.pk) == chosen), None)
    if practitioner is None and practitioners:
        own = (
            getattr(request.user, "practitioner", None)
            if request.user.has_perm("clinic.view_clinical_details")
            else None
        )
        practitioner = own if own in practitioners else practitioners[0]
    day = day_param(request)
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    columns = []
    if practitioner is not None:
        schedule = Schedule.load(first_day=monday, last_day=sunday, practitioners=[practitioner])
        appointments = _calendar_appointments(
            Appointment.objects.visible_to(request.user).filter(practitioner=practitioner).active(),
            first_day=monday,
            last_day=sunday,
        )
        by_day = defaultdict(list)
        for appointment in appointments:
            by_day[appointment.local_date].append(appointment)
        columns = [
            Column(
                label=(monday + timedelta(days=n)).strftime("%a %d %b"),
                day=monday + timedelta(days=n),
                spans=schedule.working_spans(practitioner.pk, monday + timedelta(days=n)),
                appointments=by_day[monday + timedelta(days=n)],
                practitioner=practitioner,
            )
            for n in range(7)
        ]
    return render(
        request,
        "bookings/week.html",
        {
            "practitioner": practitioner,
            "practitioners": practitioners,
            "monday": monday,
            "sunday": sunday,
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "columns": columns,
            "rows": build_grid(columns) if columns else [],
            "today": timezone.localdate(),
        },
    )


# Booking: find the patient, find a time, confirm


class PatientSearchQuery(forms.Form):
    q = SearchField()


# "from" is a Python keyword, so this form is built rather than declared.


@permission_required("bookings.add_appointment")
def book_start(request):
    query = read_query(request, PatientSearchQuery)["q"]
    patients = Patient.objects.search(query)[:20] if query else []
    if query:
        log_view(request, what="patient search", action=AuditEvent.Action.EXPORT)
    # A time picked on the calendar travels on to the patient's booking page.
    pick = urlencode({name: request.GET[name] for name in PICK_FIELDS if request.GET.get(name)})
    picked = _calendar_pick(request)
    # Typing in the search box (htmx) asks for the matches only.
    template = "bookings/_patient_matches.html" if request.htmx else "bookings/book_start.html"
    context = {"query": query, "patients": patients, "pick": pick, "picked": picked}
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _display_slots(slots):
    """(slot, local start) of the slots worth a button: those on the quarter
    hour, and the first one after each busy stretch (so a 10:25 gap is not
    hidden)."""
    shown, last = [], {}
    # The zone once, not per slot as Slot.local_start must (a thread-local
    # lookup each: a third of this function's time for a week of a team).
    zone = timezone.get_current_timezone()
    for slot in slots:
        local = datetime.fromtimestamp(slot.start_ts, zone)
        previous = last.get(slot.practitioner.pk)
        starts_run = previous is None or slot.start_ts - previous > 5 * 60
        if local.minute % QUARTER == 0 or starts_run:
            shown.append((slot, local))
        last[slot.practitioner.pk] = slot.start_ts
    return shown


def _slot_days(slots, *, confirm_url, procedure):
    """{day: {practitioner: [("09:15", link to the confirm page)]}} in day
    order. A week for a whole team is hundreds of buttons, so the links are
    put together here rather than reversed and encoded one by one."""
    days = defaultdict(lambda: defaultdict(list))
    prefix = f"{confirm_url}?{urlencode({'procedure': procedure.pk})}"
    for slot, local in _display_slots(slots):
        # What urlencode() gives for these two, without its per-call checks.
        query = f"practitioner={slot.practitioner.pk:d}&start={quote_plus(slot.start.isoformat())}"
        days[local.date()][slot.practitioner].append((f"{local:%H:%M}", f"{prefix}&{query}"))
    return {day: dict(by) for day, by in sorted(days.items())}


def _proposal_url(name, args, *, procedure, practitioner, start, extra=None):
    query = {"procedure": procedure.pk, "practitioner": practitioner.pk, "start": start.isoformat()}
    return f"{reverse(name, args=args)}?{urlencode(query | (extra or {}))}"


def _calendar_pick(request):
    """The practitioner, date and time of an empty calendar cell clicked to
    book there ({} when none, or when they do not read)."""
    form = ChosenTimeForm(request.GET)
    return dict(form.cleaned_data) if form.is_valid() else {}


PICK_FIELDS = ("practitioner", "date", "time")


def _find_times(request, *, patient, procedure_form, confirm_name, confirm_args, moving=None):
    procedure = procedure_form.cleaned_data["procedure"] if procedure_form.is_valid() else None
    context = {"patient": patient, "search": procedure_form, "moving": moving}
    if procedure is None:
        return context
    practitioner = procedure_form.cleaned_data.get("practitioner")
    picked = _calendar_pick(request)
    history = MedicalHistory.objects.latest_for(patient)
    result = first_compliant_slots(
        procedure=procedure,
        practitioners=[practitioner] if practitioner else None,
        days=SLOT_DAYS,
        on_or_after=procedure_form.cleaned_data.get("on_or_after"),
        window=patient_window(patient, procedure, history=history),
    )
    days = _slot_days(
        result.slots, confirm_url=reverse(confirm_name, args=confirm_args), procedure=procedure
    )
    today = timezone.localdate()
    first_day = max(result.earliest_date, procedure_form.cleaned_data.get("on_or_after") or today)
    screening = screen_patient(
        patient=patient, procedure=procedure, on=first_day, today=today, history=history
    )
    later = first_day + timedelta(days=SLOT_DAYS)
    context.update(
        procedure=procedure,
        result=result,
        days=days,
        screening=screening,
        later_url=f"?{urlencode({**request.GET.dict(), 'on_or_after': later.isoformat()})}",
        chosen_form=ChosenTimeForm(
            initial={"practitioner": practitioner, "date": result.earliest_date, **picked}
        ),
        picked=picked,
    )
    return context


@permission_required("bookings.add_appointment")
def book_patient(request, patient_pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    data = request.GET.copy()
    if not data.get("procedure"):  # first visit, or from a calendar cell
        first = Procedure.objects.active().first()
        data["procedure"] = first.pk if first else ""
    search = SlotSearchForm(data)
    context = _find_times(
        request,
        patient=patient,
        procedure_form=search,
        confirm_name="bookings:book_confirm",
        confirm_args=[patient.pk],
    )
    return render(request, "bookings/book_times.html", context)


@permission_required("bookings.add_appointment")
def book_chosen_time(request, patient_pk):
    """A time typed in: go to the confirm page, which says whether it works."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    search = SlotSearchForm(request.GET)
    form = ChosenTimeForm(request.GET)
    if not (search.is_valid() and form.is_valid()):
        messages.error(request, "Give a procedure, a practitioner, a date and a time.")
        return redirect("bookings:book_patient", patient_pk=patient.pk)
    procedure = search.cleaned_data["procedure"]
    return redirect(
        _proposal_url(
            "bookings:book_confirm",
            [patient.pk],
            procedure=procedure,
            practitioner=form.cleaned_data["practitioner"],
            start=form.starts_at(),
        )
    )


def _assess_or_error(proposal, *, patient, attestation="", ignore=None):
    data = proposal.cleaned_data
    try:
        return services.assess(
            patient=patient,
            practitioner=data["practitioner"],
            procedure=data["procedure"],
            starts_at=data["start"],
            attestation=attestation,
            ignore=ignore,
        ), None
    except ValidationError as exc:
        return None, exc


def _confirm(request, *, patient, save, success, back_url, moving=None):
    """The confirm page of a booking or a move: GET shows what the proposal in
    the query string means (pre-care dates, flags) or why it is refused; POST
    calls `save(proposal=..., form=...)` (the service) and goes to the result."""
    proposal = ProposalForm(request.GET)
    if not proposal.is_valid():
        messages.error(request, "That slot could not be read. Pick one again.")
        return redirect(back_url)
    data = proposal.cleaned_data
    form = ConfirmForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        appointment = form.call_service(save, proposal=data, form=form.cleaned_data)
        if appointment:
            messages.success(request, success)
            return redirect(appointment)
    assessment, refusal = _assess_or_error(proposal, patient=patient, ignore=moving)
    return render(
        request,
        "bookings/book_confirm.html",
        {
            "patient": patient,
            "moving": moving,
            "proposal": data,
            "form": form,
            "assessment": assessment,
            "refusal": refusal,
            "back_url": back_url,
        },
    )


@permission_required("bookings.add_appointment")
def book_confirm(request, patient_pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    back_url = reverse("bookings:book_patient", args=[patient.pk])
    procedure = request.GET.get("procedure", "")
    if procedure.isdigit():
        back_url += f"?procedure={procedure}"

    def save(*, proposal, form):
        return services.appointment_book(
            patient=patient,
            practitioner=proposal["practitioner"],
            procedure=proposal["procedure"],
            starts_at=proposal["start"],
            booked_by=request.user,
            attestation=form["attestation"],
            notes=form["notes"],
        )

    return _confirm(
        request,
        patient=patient,
        save=save,
        success="Booked. Tell the patient the pre-care dates below.",
        back_url=back_url,
    )


# One appointment


def _appointment_for(request, pk):
    return get_object_or_404(_appointments(request), pk=pk)


@permission_required("bookings.view_appointment")
def appointment_detail(request, pk):
    appointment = _appointment_for(request, pk)
    events = appointment.events.select_related("by")
    now = timezone.now()
    return render(
        request,
        "bookings/appointment.html",
        {
            "appointment": appointment,
            "events": events,
            "now": now,
            "consent": consent_for([appointment], now=now)[appointment.pk],
            "record": TreatmentRecord.objects.filter(appointment=appointment).first(),
            "emails": appointment.notifications.order_by("due_at", "pk"),
        },
    )


@permission_required("bookings.change_appointment")
def appointment_move(request, pk):
    appointment = _appointment_for(request, pk)
    params = request.GET.dict() or {
        "procedure": appointment.procedure_id,
        "practitioner": appointment.practitioner_id,
    }
    params["procedure"] = appointment.procedure_id  # a move keeps the procedure
    search = SlotSearchForm(params)
    context = _find_times(
        request,
        patient=appointment.patient,
        procedure_form=search,
        confirm_name="bookings:move_confirm",
        confirm_args=[appointment.pk],
        moving=appointment,
    )
    return render(request, "bookings/book_times.html", context)


@permission_required("bookings.change_appointment")
def appointment_move_chosen_time(request, pk):
    appointment = _appointment_for(request, pk)
    form = ChosenTimeForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Give a practitioner, a date and a time.")
        return redirect("bookings:move", pk=appointment.pk)
    return redirect(
        _proposal_url(
            "bookings:move_confirm",
            [appointment.pk],
            procedure=appointment.procedure,
            practitioner=form.cleaned_data["practitioner"],
            start=form.starts_at(),
        )
    )


@permission_required("bookings.change_appointment")
def appointment_move_confirm(request, pk):
    appointment = _appointment_for(request, pk)

    def save(*, proposal, form):
        return services.appointment_reschedule(
            appointment=appointment,
            starts_at=proposal["start"],
            practitioner=proposal["practitioner"],
            by=request.user,
            attestation=form["attestation"],
        )

    return _confirm(
        request,
        patient=appointment.patient,
        save=save,
        success="Moved. Tell the patient the new pre-care dates below.",
        back_url=reverse("bookings:move", args=[appointment.pk]),
        moving=appointment,
    )


@permission_required("bookings.change_appointment")
def appointment_cancel(request, pk):
    appointment = _appointment_for(request, pk)
    form = ReasonForm(post_data(request), label="Why is it cancelled?")
    if (
        request.method == "POST"
        and form.is_valid()
        and form.call_service(
            services.appointment_cancel,
            appointment=appointment,
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
    ):
        messages.success(request, "Cancelled. The time is free again.")
        return redirect(appointment)
    return render(request, "bookings/cancel.html", {"appointment": appointment, "form": form})


@permission_required("bookings.change_appointment")
def appointment_check_in(request, pk):
    appointment = _appointment_for(request, pk)
    form = CheckInForm(post_data(request))
    earliest = None
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_check_in(appointment=appointment, by=request.user)
        except ValidationError as exc:
            form.apply_service_error(exc)
            earliest = getattr(exc, "earliest", None)
        else:
            messages.success(request, f"{appointment.patient} is checked in.")
            # One click from the front desk's arrivals list returns there.
            if request.POST.get("from") == "arrivals":
                return redirect("desk_home")
            return redirect(appointment)
    return render(
        request,
        "bookings/check_in.html",
        {"appointment": appointment, "form": form, "earliest": earliest},
    )


@require_POST
@permission_required("bookings.change_appointment")
def appointment_no_show(request, pk):
    appointment = _appointment_for(request, pk)
    call_service(
        request,
        services.appointment_mark_no_show,
        success="Marked as a no-show.",
        appointment=appointment,
        by=request.user,
    )
    return redirect(appointment)


# The patient portal


# A practitioner's calendar feed (no login: the address is the secret)


def practitioner_feed(request, token):
    practitioner = get_object_or_404(Practitioner.objects.active(), feed_token=token)
    log_view(
        request,
        what="calendar feed",
        object_id=str(practitioner.pk),
        user=practitioner.user,
        action=AuditEvent.Action.EXPORT,
    )
    now = timezone.now()
    appointments = (
        Appointment.objects.active()
        .filter(
            practitioner=practitioner,
            starts_at__gte=now - ics.FEED_PAST,
            starts_at__lte=now + ics.FEED_FUTURE,
        )
        .select_related("patient", "procedure", "practitioner")
    )
    response = HttpResponse(
        ics.practitioner_feed(practitioner, appointments),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@role_required(Role.PRACTITIONER)
def practitioner_feed_reset(request):
    practitioner = get_object_or_404(Practitioner, user=request.user)
    practitioner.feed_token = new_feed_token()
    practitioner.save(update_fields=["feed_token"])
    messages.success(request, "Your calendar has a new address: the old one no longer works.")
    return redirect("practitioner_home")
