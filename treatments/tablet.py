"""The clinic's tablet, handed to a patient to sign their consent.

A member of staff presses "Sign on the clinic's tablet" on an appointment:
their own session ends at once (nothing of theirs stays reachable), and the
tablet's new, anonymous session may open only that appointment's signing
page and the locked screen, for TABLET_MINUTES. When the forms are signed,
or the time is up, or anything else is asked for, the tablet shows the
locked screen, which needs a staff login to leave. A staff login ends
tablet mode. The signatures are recorded as made at the clinic, by the
member of staff who handed the tablet over.
"""

import time

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_POST

from bookings.models import Appointment
from clinic.access import permission_required
from clinic.audit import log_view
from clinic.models import AuditEvent, User
from treatments.models import ConsentSignature

SESSION_KEY = "tablet"
TABLET_MINUTES = 30
# What a tablet in patient hands may open; anything else shows the lock.
OPEN_IN_TABLET_MODE = {"treatments:tablet_sign", "treatments:tablet_locked", "login"}
SIGNABLE = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)


def _state(request):
    state = request.session.get(SESSION_KEY)
    if state and state.get("until", 0) > time.time():
        return state
    return None


class TabletModeMiddleware:
    """Keeps a tablet in patient hands on its signing page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if SESSION_KEY in request.session:
            if request.user.is_authenticated:  # staff logged in: the tablet is theirs again
                del request.session[SESSION_KEY]
            else:
                try:
                    name = resolve(request.path_info).view_name
                except Resolver404:
                    name = ""
                if name not in OPEN_IN_TABLET_MODE:
                    return redirect("treatments:tablet_locked")
        return self.get_response(request)


@require_POST
@permission_required("bookings.change_appointment")
def tablet_start(request, appointment_pk):
    appointment = get_object_or_404(Appointment.objects.visible_to(request.user), pk=appointment_pk)
    if appointment.status not in SIGNABLE:
        messages.error(request, "Only a booked or checked-in appointment's consent can be signed.")
        return redirect(appointment)
    staff = request.user
    log_view(
        request,
        what="consent handed to the patient on the clinic's tablet",
        obj=appointment,
        patient=appointment.patient,
        action=AuditEvent.Action.VIEW,
    )
    logout(request)
    request.session[SESSION_KEY] = {
        "appointment": appointment.pk,
        "by": staff.pk,
        "until": time.time() + TABLET_MINUTES * 60,
    }
    return redirect("treatments:tablet_sign")


def tablet_sign(request):
    from treatments.views.consent import _signing  # the same signing page as links and the portal

    if SESSION_KEY not in request.session:
        raise Http404("This page is only for the clinic's tablet.")
    state = _state(request)
    if state is None:
        return redirect("treatments:tablet_locked")
    appointment = get_object_or_404(
        Appointment.objects.filter(status__in=SIGNABLE).select_related(
            "patient", "procedure", "practitioner"
        ),
        pk=state["appointment"],
    )
    return _signing(
        request,
        appointment=appointment,
        via=ConsentSignature.Via.CLINIC,
        recorded_by=User.objects.filter(pk=state["by"]).first(),
        done_template="treatments/tablet_done.html",
    )


def tablet_locked(request):
    return render(
        request, "treatments/tablet_locked.html", {"tablet": SESSION_KEY in request.session}
    )
