"""Booking: find the patient, find a time the rules allow, confirm."""

from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import quote_plus, urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from bookings import services
from bookings.availability import first_compliant_slots
from bookings.forms import (
    ChosenTimeForm,
    ConfirmForm,
    ProposalForm,
    SlotSearchForm,
)
from bookings.safety import patient_window
from bookings.views.common import QUARTER, SLOT_DAYS
from clinic.access import permission_required
from clinic.audit import log_view
from clinic.forms import post_data
from clinic.models import (
    AuditEvent,
    MedicalHistory,
    Patient,
)
from clinic.params import SearchField, read_query
from treatments.models.catalog import Procedure
from treatments.screening import screen_patient

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
    picked = calendar_pick(request)
    # Typing in the search box (htmx) asks for the matches only.
    template = "bookings/_patient_matches.html" if request.htmx else "bookings/book_start.html"
    context = {"query": query, "patients": patients, "pick": pick, "picked": picked}
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def display_slots(slots):
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


def slot_days(slots, *, confirm_url, procedure):
    """{day: {practitioner: [("09:15", link to the confirm page)]}} in day
    order. A week for a whole team is hundreds of buttons, so the links are
    put together here rather than reversed and encoded one by one."""
    days = defaultdict(lambda: defaultdict(list))
    prefix = f"{confirm_url}?{urlencode({'procedure': procedure.pk})}"
    for slot, local in display_slots(slots):
        # What urlencode() gives for these two, without its per-call checks.
        query = f"practitioner={slot.practitioner.pk:d}&start={quote_plus(slot.start.isoformat())}"
        days[local.date()][slot.practitioner].append((f"{local:%H:%M}", f"{prefix}&{query}"))
    return {day: dict(by) for day, by in sorted(days.items())}


def proposal_url(name, args, *, procedure, practitioner, start, extra=None):
    query = {"procedure": procedure.pk, "practitioner": practitioner.pk, "start": start.isoformat()}
    return f"{reverse(name, args=args)}?{urlencode(query | (extra or {}))}"


def calendar_pick(request):
    """The practitioner, date and time of an empty calendar cell clicked to
    book there ({} when none, or when they do not read)."""
    form = ChosenTimeForm(request.GET)
    return dict(form.cleaned_data) if form.is_valid() else {}


PICK_FIELDS = ("practitioner", "date", "time")


def find_times(request, *, patient, procedure_form, confirm_name, confirm_args, moving=None):
    procedure = procedure_form.cleaned_data["procedure"] if procedure_form.is_valid() else None
    context = {"patient": patient, "search": procedure_form, "moving": moving}
    if procedure is None:
        return context
    practitioner = procedure_form.cleaned_data.get("practitioner")
    picked = calendar_pick(request)
    history = MedicalHistory.objects.latest_for(patient)
    result = first_compliant_slots(
        procedure=procedure,
        practitioners=[practitioner] if practitioner else None,
        days=SLOT_DAYS,
        on_or_after=procedure_form.cleaned_data.get("on_or_after"),
        window=patient_window(patient, procedure, history=history),
    )
    days = slot_days(
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
    context = find_times(
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
        proposal_url(
            "bookings:book_confirm",
            [patient.pk],
            procedure=procedure,
            practitioner=form.cleaned_data["practitioner"],
            start=form.starts_at(),
        )
    )


def assess_or_error(proposal, *, patient, attestation="", ignore=None):
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


def confirm_page(request, *, patient, save, success, back_url, moving=None):
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
    assessment, refusal = assess_or_error(proposal, patient=patient, ignore=moving)
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

    return confirm_page(
        request,
        patient=patient,
        save=save,
        success="Booked. Tell the patient the pre-care dates below.",
        back_url=back_url,
    )
