"""The outbox: one row per message (an email or a text) to a patient, or to
staff about a patient (an alert).

It belongs to the base layer: any layer writes to it (clinic.outbox) and
`send_due_notifications` sends it. The table keeps its first name,
`bookings_notification`, from when it lived in the bookings app (moved by
clinic/0013 and bookings/0008 without touching the data). What kinds of
message exist is registered by the layers that write them (clinic.outbox.kind),
so the base names none of them."""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models.patients import Patient


class Texts(StrEnum):
    """Whether a kind of message also goes as a text, to a patient who agreed
    to texts."""

    NEVER = "never"
    ALWAYS = "always"  # short reminders and links
    WITHOUT_EMAIL = "without_email"  # only when there is no email to carry it


@dataclass(frozen=True)
class MessageKind:
    code: str
    label: str
    texts: Texts = Texts.NEVER
    # A message sent this long after it was due would only confuse (a reminder
    # when the sender had been down): it is withdrawn instead.
    shelf_life: timedelta | None = None
    # Texts of an urgent kind (an alert to staff) go at any hour.
    urgent: bool = False

    def __str__(self):
        return self.code


KINDS: dict[str, MessageKind] = {}


def message_kind(code, label, *, texts=Texts.NEVER, shelf_life=None, urgent=False) -> MessageKind:
    """Register a kind of message; the layer that writes it calls this once,
    at import. Returns the kind, whose `code` goes in `Notification.kind`."""
    kind = MessageKind(code, label, Texts(texts), shelf_life, urgent)
    if KINDS.setdefault(code, kind) != kind:
        raise ValueError(f"Message kind {code!r} is registered twice, differently.")
    return kind


class Notification(models.Model):
    """A message in the outbox: written when something happens, sent when
    due, exactly once per channel, with its state visible to staff. Content is
    rendered when the row is written; a moved or cancelled appointment cancels
    its pending reminders and writes new ones."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not needed any more")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text (SMS)")

    kind = models.CharField(max_length=32)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notifications")
    # What the message is about, when it is a visit: the appointment page lists
    # its messages, and a move or a cancellation withdraws them.
    appointment = models.ForeignKey(
        "bookings.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    channel = models.CharField(max_length=5, choices=Channel, default=Channel.EMAIL)
    dedupe_key = models.CharField(max_length=120, unique=True)
    to_email = models.EmailField(blank=True)
    to_phone = models.CharField(max_length=20, blank=True)
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    attachment_name = models.CharField(max_length=80, blank=True)
    attachment = models.TextField(blank=True)
    due_at = models.DateTimeField()
    # Pointless from this moment (the visit it is about has started): then it
    # is withdrawn rather than sent.
    not_after = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "bookings_notification"
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="bookings_notification_due"),
            models.Index(fields=["appointment", "status"], name="bookings_notification_appt"),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} to {self.to_email or self.to_phone} "
            f"({self.get_status_display()})"
        )

    def get_kind_display(self):
        kind = KINDS.get(self.kind)
        return kind.label if kind else self.kind.replace("_", " ").capitalize()
