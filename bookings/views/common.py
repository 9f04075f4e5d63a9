"""What the bookings pages share: the appointments a user may see, and the
columns a calendar reads."""

from bookings.models import Appointment

SLOT_DAYS = 7  # days of free slots shown at once
CALENDAR_FIELDS = [
    "status",
    "starts_at",
    "ends_at",
    "blocked_until",
    "procedure_id",
    "on_anticoagulants",
    "screening_outcome",
    "precare_flag",
    "history_state",
    "patient__first_name",
    "patient__last_name",
    "practitioner__display_name",
    "practitioner__colour",
]
QUARTER = 15


def visible_appointments(request):
    return (
        Appointment.objects.visible_to(request.user)
        .select_related("patient", "practitioner", "procedure")
        .prefetch_related("procedure__components")
        .with_history()
    )
