"""The calendars: the day (practitioners as columns), a practitioner's week,
and a practitioner's calendar feed."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings import extensions, ics
from bookings.availability import Schedule
from bookings.calendar import Column, build_grid
from bookings.models import Appointment
from bookings.views.common import CALENDAR_FIELDS
from clinic.access import permission_required, role_required
from clinic.audit import log_view
from clinic.models import (
    AuditEvent,
    Practitioner,
    new_feed_token,
)
from clinic.params import day_param
from clinic.roles import Role
from treatments.models.catalog import Procedure


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
    return extensions.mark_list(appointments, now=timezone.now())


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
