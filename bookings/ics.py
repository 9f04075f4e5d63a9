"""iCalendar files, made with the `icalendar` library: one per appointment
(attached to confirmations and moves) and a feed per practitioner."""

from datetime import UTC, timedelta

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

PRODID = "-//Vermilion//Clinic appointments//EN"


def _calendar(method=None):
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def _uid(appointment):
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"appointment-{appointment.pk}@{host or 'vermilion'}"


def _event(appointment, *, summary, description, sequence=0, cancelled=False):
    event = icalendar.Event()
    event.add("uid", _uid(appointment))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", summary)
    event.add("location", settings.CLINIC_NAME)
    event.add("description", description)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def appointment_ics(appointment, *, sequence=0, cancelled=False):
    """The patient's calendar entry. A move keeps the UID with a higher
    SEQUENCE, so calendar apps update the entry instead of adding one."""
    stop = date_format(appointment.precare_stop_date, "l j F")
    description = (
        f"{appointment.procedure} with {appointment.practitioner}. "
        f"From {stop}: no alcohol and no blood thinners you can buy without a prescription "
        "(keep taking any your doctor prescribed). "
        f"Questions: {settings.CLINIC_PHONE}."
    )
    calendar = _calendar("CANCEL" if cancelled else "PUBLISH")
    calendar.add_component(
        _event(
            appointment,
            summary=f"{appointment.procedure} at {settings.CLINIC_NAME}",
            description=description,
            sequence=sequence,
            cancelled=cancelled,
        )
    )
    return calendar.to_ical().decode()


def practitioner_feed(practitioner, appointments):
    """A practitioner's appointments for their calendar app. Calendar apps sync
    through third parties, so entries carry no more than the first name and the
    initial of the last name."""
    calendar = _calendar()
    calendar.add("x-wr-calname", f"{practitioner} at {settings.CLINIC_NAME}")
    calendar.add("refresh-interval;value=duration", "PT15M")
    for appointment in appointments:
        patient = appointment.patient
        calendar.add_component(
            _event(
                appointment,
                summary=f"{appointment.procedure}: {patient.first_name} {patient.last_name[:1]}.",
                description=f"Booked until {timezone.localtime(appointment.blocked_until):%H:%M} "
                "with the room's buffer.",
            )
        )
    return calendar.to_ical().decode()


FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=180)
