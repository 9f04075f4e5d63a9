"""The waitlist, for the front desk: who is waiting for what, and editing an
entry (dates, practitioner, notes, taking it off the list). Offers are made
by the booking services when a time is freed (bookings.waitlist)."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from bookings import waitlist
from bookings.forms import WaitlistForm
from bookings.models import WaitlistEntry
from clinic.access import permission_required
from clinic.forms import post_data
from clinic.models import Patient

# Entries no longer waiting shown under the list (the newest first).
RECENT_CLOSED = 30


def _entries(request):
    return (
        WaitlistEntry.objects.visible_to(request.user)
        .select_related("patient", "procedure", "practitioner")
        .annotate(offer_count=Count("offers"))
    )


@permission_required("bookings.view_waitlistentry")
def waitlist_list(request):
    entries = _entries(request)
    return render(
        request,
        "bookings/waitlist.html",
        {
            "waiting": entries.waiting().order_by("created_at", "pk"),
            "closed": entries.exclude(status=WaitlistEntry.Status.WAITING).order_by(
                "-updated_at", "-pk"
            )[:RECENT_CLOSED],
        },
    )


@permission_required("bookings.change_waitlistentry")
def waitlist_edit(request, pk):
    entry = get_object_or_404(_entries(request), pk=pk)
    initial = {
        "procedure": entry.procedure_id,
        "practitioner": entry.practitioner_id,
        "earliest": entry.earliest,
        "latest": entry.latest,
        "notes": entry.notes,
        "status": entry.status,
    }
    form = WaitlistForm(post_data(request), initial=initial, staff=True)
    del form.fields["procedure"]  # another procedure is another entry
    if (
        request.method == "POST"
        and form.is_valid()
        and form.call_service(
            waitlist.waitlist_update,
            entry=entry,
            earliest=form.cleaned_data["earliest"],
            latest=form.cleaned_data["latest"],
            practitioner=form.cleaned_data["practitioner"],
            notes=form.cleaned_data["notes"],
            status=form.cleaned_data["status"] or None,
        )
    ):
        messages.success(request, f"Saved: {entry.patient}'s waitlist entry.")
        return redirect("bookings:waitlist")
    offers = entry.offers.select_related("practitioner").order_by("-offered_at")
    return render(
        request,
        "bookings/waitlist_edit.html",
        {"entry": entry, "form": form, "offers": offers},
    )


@permission_required("bookings.add_waitlistentry")
def waitlist_add(request, patient_pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    form = WaitlistForm(post_data(request), staff=True)
    del form.fields["status"]
    if request.method == "POST" and form.is_valid():
        entry = form.join(patient=patient, by=request.user)
        if entry is not None:
            messages.success(request, f"{patient} is on the waitlist for {entry.procedure}.")
            return redirect("bookings:waitlist")
    return render(request, "bookings/waitlist_add.html", {"patient": patient, "form": form})
