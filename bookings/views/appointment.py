"""One appointment: its page, and moving, cancelling, checking in and no-show."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings import extensions, services
from bookings.forms import (
    CheckInForm,
    ChosenTimeForm,
    SlotSearchForm,
)
from bookings.views.booking import confirm_page, find_times, proposal_url
from bookings.views.common import visible_appointments
from clinic.access import permission_required
from clinic.flash import call_service
from clinic.forms import ReasonForm, post_data

# One appointment


def _appointment_for(request, pk):
    return get_object_or_404(visible_appointments(request), pk=pk)


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
            **extensions.page_parts(appointment, now=now),
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
    context = find_times(
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
        proposal_url(
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

    return confirm_page(
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
