"""Emails about consent. Sent after the transaction commits."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.formats import date_format


def consent_link(appointment, url):
    patient = appointment.patient
    if not patient.email:
        return
    when = timezone.localtime(appointment.starts_at)
    day = date_format(when, "l j F")
    send_mail(
        subject=f"Please sign your consent form for {day}",
        message=(
            f"Hello {patient.first_name},\n\n"
            f"Before your {appointment.procedure.name.lower()} on {day} at {when:%H:%M}, "
            "please read and sign the consent form online. It takes a few minutes on a phone "
            f"or a computer:\n\n{url}\n\n"
            f"The link works for {settings.CONSENT_LINK_HOURS} hours and only for you. "
            f"Questions? Call us on {settings.CLINIC_PHONE}.\n\n{settings.CLINIC_NAME}\n"
        ),
        from_email=None,
        recipient_list=[patient.email],
    )


def aftercare(record):
    """The aftercare instructions given at the visit, by email."""
    patient = record.patient
    if not patient.email:
        return
    lines = "\n".join(f"- {line}" for line in record.postcare_given.splitlines() if line.strip())
    review = (
        f"\nWe would like to see you for a review on {date_format(record.review_date, 'l j F')}.\n"
        if record.review_date
        else ""
    )
    send_mail(
        subject=f"Your aftercare after today's {record.procedure.name.lower()}",
        message=(
            f"Hello {patient.first_name},\n\nThank you for coming in today. Here is the "
            f"aftercare we went through:\n\n{lines}\n{review}\n"
            f"Questions or worries? Call us on {settings.CLINIC_PHONE}.\n\n{settings.CLINIC_NAME}\n"
        ),
        from_email=None,
        recipient_list=[patient.email],
    )
