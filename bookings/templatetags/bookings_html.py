"""{% appointment_flags a %}, {% consent_badge state %} and
{% calendar_rows rows %}: see bookings/html.py for why these are Python."""

from django import template

from bookings import html

register = template.Library()
register.simple_tag(html.appointment_flags, name="appointment_flags")
register.simple_tag(html.consent_badge, name="consent_badge")
register.simple_tag(html.calendar_rows, name="calendar_rows")
