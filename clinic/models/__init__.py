"""The base layer's models, a module per concern: people (staff and
practitioners), patients (and their medical histories), the audit of reads,
and the outbox. Everything is named here, so callers write
`clinic.models.<Model>`."""

from clinic.models.audit import AuditEvent
from clinic.models.online import OnlineBookingSettings
from clinic.models.outbox import KINDS, MessageKind, Notification, Texts, message_kind
from clinic.models.patients import (
    APOSTROPHES,
    HISTORY_COMPLETE,
    SHORTEST_FRAGMENT,
    MedicalHistory,
    MedicalHistoryQuerySet,
    Patient,
    PatientQuerySet,
    parse_date_of_birth,
    phone_digits,
    search_key,
)
from clinic.models.people import (
    Practitioner,
    PractitionerQuerySet,
    User,
    UserManager,
    hex_colour,
    new_feed_token,
)

__all__ = [
    "OnlineBookingSettings",
    "APOSTROPHES",
    "HISTORY_COMPLETE",
    "SHORTEST_FRAGMENT",
    "KINDS",
    "AuditEvent",
    "MessageKind",
    "Notification",
    "Texts",
    "message_kind",
    "MedicalHistory",
    "MedicalHistoryQuerySet",
    "Patient",
    "PatientQuerySet",
    "Practitioner",
    "PractitionerQuerySet",
    "User",
    "UserManager",
    "hex_colour",
    "new_feed_token",
    "parse_date_of_birth",
    "phone_digits",
    "search_key",
]
