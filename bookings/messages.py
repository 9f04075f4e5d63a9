"""The messages about appointments: which an event calls for and when.

The booking services call these inside their own transaction; the base
layer's outbox (clinic.outbox) renders, stores and sends them, by email and,
for patients who agreed, by text."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from bookings.ics import appointment_ics
from bookings.models import Appointment
from clinic import outbox
from clinic.models import MedicalHistory, Notification, Texts, message_kind
from treatments.aftercare import red_flags_for

# A reminder this late (the sender was down) would only confuse: the
# confirmation already gave the dates.
REMINDER_SHELF_LIFE = timedelta(hours=12)

CONFIRMATION = message_kind("confirmation", "Booking confirmation", texts=Texts.WITHOUT_EMAIL)
PRECARE = message_kind(
    "precare", "Pre-care starts", texts=Texts.ALWAYS, shelf_life=REMINDER_SHELF_LIFE
)
DAY_BEFORE = message_kind(
    "day_before", "Day-before reminder", texts=Texts.ALWAYS, shelf_life=REMINDER_SHELF_LIFE
)
MOVED = message_kind("moved", "Appointment moved", texts=Texts.WITHOUT_EMAIL)
CANCELLED = message_kind("cancelled", "Appointment cancelled", texts=Texts.WITHOUT_EMAIL)

MORNING = time(8)  # pre-care reminders go out at 08:00 on the stop date
REMINDER_TIME = time(10)  # day-before reminders at 10:00
REMINDERS = (PRECARE.code, DAY_BEFORE.code)


def _local(day, at):
    return timezone.make_aware(datetime.combine(day, at))


def precare_instructions(appointment, *, anticoagulants=(), today=None):
    """What the patient does before the visit, as sentences with real dates.

    It never tells anyone to stop a prescribed blood thinner: patients who take
    one are told, by name, to keep taking it."""
    stop = appointment.precare_stop_date
    today = today or timezone.localdate()
    lines = [
        f"From {'today, ' if stop == today else ''}{date_format(stop, 'l j F')} until after "
        "your appointment, please have no alcohol.",
        "Over the same days, do not take blood thinners you can buy without a prescription: "
        "aspirin bought over the counter, ibuprofen, naproxen and other anti-inflammatory "
        "painkillers, fish oil, vitamin E, ginkgo, garlic tablets or St John's wort. "
        "Paracetamol is fine for pain.",
    ]
    if anticoagulants:
        lines.append(
            f"Keep taking {', '.join(anticoagulants)} exactly as your doctor prescribed: do not "
            "stop or change a prescribed medicine for this treatment. Your practitioner will "
            "talk it through with you."
        )
    else:
        lines.append(
            "If a doctor has prescribed you a blood thinner, keep taking it as prescribed and "
            "tell us before your visit."
        )
    if appointment.precare_flag == "short_window":
        lines.append("Only the minimum time is left, so please start straight away.")
    return lines


def assessment_instructions(assessment):
    """The pre-care sentences of a booking not yet made (its confirm page);
    none when the proposal was refused (`assessment` None)."""
    if assessment is None:
        return []
    preview = Appointment(
        precare_stop_date=assessment.precare.stop_date, precare_flag=assessment.precare_flag
    )
    return precare_instructions(preview, anticoagulants=assessment.anticoagulants)


def anticoagulants_of(patient):
    history = MedicalHistory.objects.latest_for(patient)
    return history.anticoagulant_names() if history else []


def _rows(kind, appointment, **fields):
    """An appointment's message rows: to its patient, withdrawn if still
    waiting when the visit starts."""
    return outbox.rows(
        kind,
        patient=appointment.patient,
        appointment=appointment,
        not_after=appointment.starts_at,
        **fields,
    )


def _reminders(appointment, *, now, instructions, moves=0):
    """Rows for pre-care on the morning of the stop date (at once if that has
    passed) and a reminder the day before (none when booked later than that).
    The keys name the move too: moved away and back to the same time, the
    appointment gets new reminders, not the keys of the cancelled ones."""
    at = outbox.stamp(appointment.starts_at)
    start = f"{at}:{moves}" if moves else at
    rows = _rows(
        PRECARE,
        appointment,
        key=f"precare:{appointment.pk}:{start}",
        due_at=max(now, _local(appointment.precare_stop_date, MORNING)),
        context={"instructions": instructions},
    )
    day_before = _local(appointment.local_date - timedelta(days=1), REMINDER_TIME)
    if day_before > now:
        rows += _rows(
            DAY_BEFORE,
            appointment,
            key=f"day_before:{appointment.pk}:{start}",
            due_at=day_before,
            context={"instructions": instructions},
        )
    return rows


def appointment_booked(appointment, *, now, anticoagulants=None, treated_agents=None):
    """`anticoagulants`: the names from the patient's latest history, and
    `treated_agents`: the agents of the patient's treatments here, when the
    caller has them (the booking service does), to save reading them again."""
    if anticoagulants is None:
        anticoagulants = anticoagulants_of(appointment.patient)
    instructions = precare_instructions(
        appointment, anticoagulants=anticoagulants, today=timezone.localdate(now)
    )
    confirmation = _rows(
        CONFIRMATION,
        appointment,
        key=f"confirmation:{appointment.pk}",
        due_at=now,
        context={
            "instructions": instructions,
            "red_flags": red_flags_for(appointment.procedure.agents),
        },
        attachment=("appointment.ics", appointment_ics(appointment)),
    )
    reminders = _reminders(appointment, now=now, instructions=instructions)
    outbox.enqueue_all([*confirmation, *reminders])
    if treated_agents is None or treated_agents & set(appointment.procedure.agents):
        _withdraw_recalls(appointment, now=now)


# The rebooking recall: written when a treatment is signed (treatments.messages),
# answered by the next booking of the same agent.
RECALL = message_kind("recall", "Time to rebook")
RECALL_TIME = time(9)


def _withdraw_recalls(appointment, *, now):
    """A booking answers the recall for what it books: pending recalls of the
    patient's earlier treatments with the same agent (toxin, filler) are
    withdrawn, in one UPDATE. A recall is written when a treatment is signed,
    which completes its appointment: a patient with no completed appointment
    of the agent has none to withdraw (appointment_booked skips the UPDATE)."""
    agents = appointment.procedure.agents
    outbox.withdraw(
        Notification.objects.filter(
            Q(appointment__procedure__agent__in=agents)
            | Q(appointment__procedure__components__agent__in=agents),
            patient=appointment.patient,
            kind=RECALL.code,
        ).exclude(appointment=appointment),
        reason=f"Not needed: booked again on {now:%d %b %H:%M}",
    )


def appointment_moved(appointment, *, now, previous_start, moves):
    """The old reminders go; a notice with the updated calendar entry and new
    reminders come. What else still waits about the visit (a consent link)
    is now pointless only from its new start."""
    about = Notification.objects.filter(appointment=appointment)
    outbox.withdraw(about.filter(kind__in=REMINDERS), reason=f"Not needed after {now:%d %b %H:%M}")
    about.filter(status=Notification.Status.PENDING, not_after__isnull=False).update(
        not_after=appointment.starts_at
    )
    instructions = precare_instructions(
        appointment,
        anticoagulants=anticoagulants_of(appointment.patient),
        today=timezone.localdate(now),
    )
    moved = _rows(
        MOVED,
        appointment,
        key=f"moved:{appointment.pk}:{outbox.stamp(appointment.starts_at)}:{moves}",
        due_at=now,
        context={"previous_start": previous_start, "instructions": instructions},
        attachment=("appointment.ics", appointment_ics(appointment, sequence=moves)),
    )
    outbox.enqueue_all(
        [*moved, *_reminders(appointment, now=now, instructions=instructions, moves=moves)]
    )


def appointment_cancelled(appointment, *, now, moves):
    """Everything still waiting about the visit (reminders, the confirmation,
    a consent link) is withdrawn; the patient is told."""
    outbox.withdraw(
        Notification.objects.filter(appointment=appointment),
        reason=f"Not needed after {now:%d %b %H:%M}",
    )
    outbox.enqueue(
        CANCELLED,
        patient=appointment.patient,
        appointment=appointment,
        key=f"cancelled:{appointment.pk}",
        due_at=now,
        context={},
        attachment=(
            "appointment.ics",
            appointment_ics(appointment, sequence=moves + 1, cancelled=True),
        ),
    )


# The waitlist (bookings.waitlist): a freed time offered by email, with a claim link.
WAITLIST_OFFER = message_kind("waitlist_offer", "Waitlist: an earlier time")


def _offer_key(offer_pk):
    return f"waitlist_offer:{offer_pk}"


def waitlist_offered(offer, *, url, due_at, now):
    """The offer's email, due at `due_at` (the waitlist's order), pointless
    once the time has started."""
    entry = offer.entry
    outbox.enqueue_all(
        outbox.rows(
            WAITLIST_OFFER,
            patient=entry.patient,
            key=_offer_key(offer.pk),
            due_at=due_at,
            not_after=offer.starts_at,
            context={
                "offer": offer,
                "procedure": entry.procedure,
                "practitioner": offer.practitioner,
                "url": url,
                "hours": settings.WAITLIST_OFFER_HOURS,
            },
        )
    )


def waitlist_offers_withdrawn(offers, *, now):
    """The time has been claimed: the offers' emails still waiting are not sent."""
    email = Notification.Channel.EMAIL
    keys = [f"{email}:{_offer_key(pk)}" for pk in offers.values_list("pk", flat=True)]
    outbox.withdraw(
        Notification.objects.filter(dedupe_key__in=keys),
        reason=f"Not needed: the time was claimed {now:%d %b %H:%M}",
    )
