"""Each role's landing page: the front desk's day, the practitioner's day, the
manager's dashboard and the lists behind its figures."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment
from clinic.access import role_required
from clinic.pages import dashboard
from clinic.paging import Window
from clinic.roles import Role
from treatments.consent import attach_consent
from treatments.models import ComplicationCheckIn, PatientReport
from treatments.views import kit_status

LANDING_PAGES = {
    Role.PRACTITIONER: "practitioner_home",
    Role.FRONT_DESK: "desk_home",
    Role.MANAGER: "manager_home",
    Role.PATIENT: "portal_home",
}


@login_required
def home(request):
    role = request.user.primary_role
    if role is None:
        return render(request, "clinic/no_role.html", status=403)
    return redirect(LANDING_PAGES[role])


def _upcoming(request):
    return (
        Appointment.objects.visible_to(request.user)
        .select_related("patient", "practitioner", "procedure")
        .prefetch_related("procedure__components")
        .with_history()
    )


@role_required(Role.FRONT_DESK)
def desk_home(request):
    today = timezone.localdate()
    week = [
        a
        for a in _upcoming(request).active().starting_between(today, today + timedelta(days=7))
        if a.status == Appointment.Status.BOOKED
    ]
    return render(
        request,
        "clinic/desk_home.html",
        {
            "today": today,
            "appointments": attach_consent(
                _upcoming(request).starting_between(today, today), now=timezone.now()
            ),
            "needs_history": [a for a in week if a.needs_history],
        },
    )


@role_required(Role.PRACTITIONER)
def practitioner_home(request):
    today = timezone.localdate()
    mine = _upcoming(request).filter(practitioner__user=request.user)
    return render(
        request,
        "clinic/practitioner_home.html",
        {
            "today": today,
            "appointments": attach_consent(mine.starting_between(today, today), now=timezone.now()),
            "coming": mine.active().starting_between(
                today + timedelta(days=1), today + timedelta(days=7)
            ),
            "feed_url": settings.SITE_URL
            + reverse("practitioner_feed", args=[request.user.practitioner.feed_token]),
            # Reports from the patients they treated, until reviewed (red flags first).
            "reports": PatientReport.objects.awaiting_review()
            .filter(record__practitioner__user=request.user)
            .select_related("patient", "record__procedure")
            .urgent_first(),
            # Complication check-ins owed today or overdue, on their patients.
            "check_ins": ComplicationCheckIn.objects.due_by(
                timezone.localtime().replace(hour=23, minute=59, second=59)
            )
            .filter(complication__record__practitioner__user=request.user)
            .select_related("complication__patient"),
            # What would stop a filler treatment today (none: the kit is ready).
            "kit_findings": kit_status(timezone.now())[1],
        },
    )


@role_required(Role.MANAGER)
def manager_home(request):
    return render(request, "clinic/manager_home.html", dashboard.dashboard(now=timezone.now()))


@role_required(Role.MANAGER)
def manager_appointments(request):
    """The list behind each of the dashboard's appointment figures."""
    query = dashboard.read_list_query(request)
    now = timezone.now()
    page = Window(
        dashboard.appointments_matching(query, now=now),
        request,
        per_page=dashboard.APPOINTMENTS_PER_PAGE,
    )
    if not query["gap"]:
        attach_consent(page.object_list, now=now)
    return render(
        request,
        "clinic/manager_appointments.html",
        {
            "page": page,
            "query": query,
            "described": dashboard.describe(query),
            "statuses": dashboard.STATUS_CHOICES + list(Appointment.Status.choices),
        },
    )
