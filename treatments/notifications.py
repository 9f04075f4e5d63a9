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
