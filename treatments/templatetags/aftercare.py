"""{% red_flags appointments_or_procedures... %}: the box that tells a patient
which signs after a treatment need emergency care, with the clinic's numbers.
The wording is in treatments/aftercare.py."""

from django import template
from django.conf import settings

from treatments.aftercare import red_flags_for

register = template.Library()


def _agents(source):
    """Agents of a procedure, of anything with a procedure (an appointment or a
    record; cancelled and no-show appointments count for nothing), or of a
    list of those."""
    if hasattr(source, "agents"):
        return set(source.agents)
    if hasattr(source, "procedure"):
        return _agents(source.procedure) if getattr(source, "is_active", True) else set()
    return set().union(*(_agents(item) for item in source or ()))


@register.inclusion_tag("includes/red_flags.html")
def red_flags(*sources):
    return {
        "red_flags": red_flags_for(_agents(sources)),
        "clinic_phone": settings.CLINIC_PHONE,
        "out_of_hours_phone": settings.CLINIC_OUT_OF_HOURS_PHONE,
    }
