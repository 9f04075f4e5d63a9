"""Writes about appointments: book, move, cancel, check in, no-show, complete.

Every service is keyword-only, takes an optional `now` for tests, runs in one
transaction and raises ValidationError with a stable `code` (a module
constant's name in lower case) and a message that says what to do. A refusal
saves nothing.

Double booking is prevented twice. The service locks the practitioner's row
(and the patient's) before it checks for overlaps, so concurrent bookings of
one practitioner queue; on SQLite the IMMEDIATE transaction already serialises
writers. On PostgreSQL, exclusion constraints over the occupied time range
(migration bookings/0002) are the last line: if anything slipped past the
check, the insert fails and the caller gets the same "just taken" refusal.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from bookings import notifications
from bookings.availability import APPOINTMENT, TIME_OFF, Schedule
from bookings.models import Appointment, AppointmentEvent
from bookings.rules import Precare, Verdict, precare_check
from clinic.models import Patient, Practitioner
from clinic.rules import HistoryState
from treatments.screening import PatientScreening, screen_patient

IN_PAST = "That time has already passed. Pick a time later than now."
PROCEDURE_NOT_OFFERED = "%(procedure)s is no longer offered. Pick another procedure."
PRACTITIONER_NOT_BOOKABLE = "%(practitioner)s is not taking bookings. Pick another practitioner."
OUTSIDE_HOURS = (
    "%(practitioner)s is not working for the whole of %(start)s to %(end)s on %(day)s "
    "(the appointment and the room's buffer must fit in their hours and the clinic's). "
    "Pick one of the free slots."
)
PRACTITIONER_AWAY = (
    "%(practitioner)s is away at that time. Pick another practitioner or another day."
)
SLOT_TAKEN = (
    "%(practitioner)s is no longer free at %(start)s on %(day)s: another appointment "
    "overlaps it (it may have just been booked). Pick another slot."
)
PATIENT_BUSY = (
    "%(patient)s already has an appointment that overlaps %(start)s on %(day)s. "
    "Pick another time, or move that appointment first."
)
CONTRAINDICATED = (
    "%(patient)s's medical history rules out %(procedure)s on %(day)s. A practitioner "
    "must review the history before this procedure can be booked."
)
PRECARE_TOO_LATE = (
    "Too soon for %(procedure)s: the patient must have no alcohol and no blood thinners "
    "for at least %(min_days)s full days before the visit. The earliest date that works is "
    "%(earliest)s. Pick a date from then on, or record the patient's statement that they "
    "have had none since %(stop)s."
)
NOT_BOOKED = "This appointment is %(status)s, so it cannot be %(action)s."
CANCEL_REASON_REQUIRED = "Give a reason for cancelling, e.g. 'patient unwell'."
NOT_TODAY = "Check-in is on the day of the appointment, %(day)s."
HISTORY_MISSING = (
    "%(patient)s has no medical history on file. They must complete it (on the portal, or "
    "with the practitioner) before check-in."
)
HISTORY_STALE = (
    "%(patient)s's medical history needed re-confirming from %(expired)s. They must "
    "re-confirm or update it before check-in."
)
HISTORY_INCOMPLETE = (
    "%(patient)s's medical history is missing answers to questions added since it was "
    "given (%(date)s). Update it with the patient before check-in."
)
PRECARE_NOT_KEPT = (
    "Treatment cannot go ahead today: the patient did not keep the pre-care window. "
    "Move the appointment to %(earliest)s or later, and ask them to have no alcohol or "
    "blood thinners from today."
)
TOO_EARLY_FOR_NO_SHOW = "The appointment starts at %(start)s. Mark a no-show only after that."

PRACTITIONER_OVERLAP = "bookings_appointment_no_practitioner_overlap"
PATIENT_OVERLAP = "bookings_appointment_no_patient_overlap"


def _day(value: date):
    return date_format(value, "l j F Y")


def _time(moment):
    return timezone.localtime(moment).strftime("%H:%M")


@dataclass(frozen=True)
class Assessment:
    """What booking `procedure` at `starts_at` means, before anything is saved:
    the times, the pre-care window and the screening flags."""

    starts_at: object
    ends_at: object
    blocked_until: object
    precare: Precare
    screening: PatientScreening
    attested: bool

    @property
    def precare_flag(self):
        if self.attested:
            return Appointment.PrecareFlag.ATTESTED
        if self.precare.verdict == Verdict.SHORT:
            return Appointment.PrecareFlag.SHORT
        return Appointment.PrecareFlag.NONE

    @property
    def on_anticoagulants(self):
        history = self.screening.history
        return bool(history and history.anticoagulant_names())


def assess(
    *, patient, practitioner, procedure, starts_at, attestation="", now=None, ignore=None
) -> Assessment:
    """Check a proposed booking against every rule; raise ValidationError for
    the first it breaks. Rules about the patient and the date come first
    (screening, the pre-care window), then the time (hours, time off, other
    appointments), so the front desk hears first what no other time would fix.

    Used by the booking page to show the pre-care dates and flags before the
    user confirms, and by the services below."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    day = timezone.localdate(starts_at)
    timing = procedure.timing
    ends_at = starts_at + timedelta(minutes=timing.chair_minutes)
    blocked_until = ends_at + timedelta(minutes=timing.buffer_minutes)
    when = {"start": _time(starts_at), "end": _time(blocked_until), "day": _day(day)}

    if starts_at <= now:
        raise ValidationError(IN_PAST, code="in_past")
    if not procedure.is_active:
        raise ValidationError(
            PROCEDURE_NOT_OFFERED, code="procedure_not_offered", params={"procedure": procedure}
        )
    if not (practitioner.is_active and practitioner.user.is_active):
        raise ValidationError(
            PRACTITIONER_NOT_BOOKABLE,
            code="practitioner_not_bookable",
            params={"practitioner": practitioner},
        )

    screening = screen_patient(patient=patient, procedure=procedure, on=day, today=today)
    if screening.is_contraindicated:
        raise ValidationError(
            CONTRAINDICATED,
            code="contraindicated",
            params={"patient": patient, "procedure": procedure, "day": _day(day)},
        )

    precare = precare_check(
        appointment_date=day,
        booking_date=today,
        min_days=timing.precare_min_days,
        recommended_days=timing.precare_recommended_days,
    )
    attested = not precare.accepted and bool(attestation.strip())
    if not precare.accepted and not attested:
        raise ValidationError(
            PRECARE_TOO_LATE,
            code="precare_too_late",
            params={
                "procedure": procedure,
                "min_days": timing.precare_min_days,
                "earliest": _day(precare.earliest_date),
                "stop": _day(precare.stop_date),
                "earliest_date": precare.earliest_date,
            },
        )
    schedule = Schedule.load(
        first_day=day, last_day=day, practitioners=[practitioner], ignore=ignore
    )
    if not schedule.within_working_time(practitioner.pk, starts_at, blocked_until):
        raise ValidationError(
            OUTSIDE_HOURS, code="outside_hours", params={"practitioner": practitioner, **when}
        )
    if schedule.conflicts(practitioner.pk, starts_at, blocked_until, TIME_OFF):
        raise ValidationError(
            PRACTITIONER_AWAY, code="practitioner_away", params={"practitioner": practitioner}
        )
    if schedule.conflicts(practitioner.pk, starts_at, blocked_until, APPOINTMENT):
        raise ValidationError(
            SLOT_TAKEN, code="slot_taken", params={"practitioner": practitioner, **when}
        )

    return Assessment(starts_at, ends_at, blocked_until, precare, screening, attested)


def _lock(*, practitioners, patient):
    """Lock rows in a fixed order (practitioners by id, then the patient) so
    that two services never wait on each other."""
    for practitioner in sorted(practitioners, key=lambda p: p.pk):
        Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    Patient.objects.select_for_update().get(pk=patient.pk)


def _check_patient_free(*, patient, assessment, ignore=None):
    clashes = Appointment.objects.active().filter(patient=patient)
    if ignore is not None:
        clashes = clashes.exclude(pk=ignore.pk)
    if clashes.overlapping(assessment.starts_at, assessment.blocked_until).exists():
        raise ValidationError(
            PATIENT_BUSY, code="patient_busy", params=_who_when(patient, assessment)
        )


def _who_when(patient, assessment):
    return {
        "patient": patient,
        "start": _time(assessment.starts_at),
        "day": _day(timezone.localdate(assessment.starts_at)),
    }


def _apply(appointment, assessment, *, attestation, by, now):
    appointment.starts_at = assessment.starts_at
    appointment.ends_at = assessment.ends_at
    appointment.blocked_until = assessment.blocked_until
    appointment.precare_stop_date = assessment.precare.stop_date
    appointment.precare_flag = assessment.precare_flag
    if assessment.attested:
        appointment.attestation = attestation.strip()
        appointment.attestation_recorded_by = by
        appointment.attestation_recorded_at = now
    else:
        appointment.attestation = ""
        appointment.attestation_recorded_by = None
        appointment.attestation_recorded_at = None
    screening = assessment.screening
    appointment.history_state = screening.history_state
    appointment.screening_outcome = screening.screening.outcome if screening.screening else ""
    appointment.screening_codes = screening.screening.codes if screening.screening else []
    appointment.on_anticoagulants = assessment.on_anticoagulants


DEADLOCK = "40P01"


def _save_guarded(appointment, *, patient, practitioner, assessment):
    """Save, turning an exclusion-constraint violation (PostgreSQL) into the
    same refusal the locked check gives. Two inserts that conflict under an
    exclusion constraint at the same moment can also deadlock: PostgreSQL
    aborts one of them, and that one was, in effect, just beaten to the slot."""
    try:
        with transaction.atomic():
            appointment.save()
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != DEADLOCK:
            raise
        raise ValidationError(
            SLOT_TAKEN,
            code="slot_taken",
            params={"practitioner": practitioner, **_who_when(patient, assessment)},
        ) from None
    except IntegrityError as exc:
        if PRACTITIONER_OVERLAP in str(exc):
            raise ValidationError(
                SLOT_TAKEN,
                code="slot_taken",
                params={"practitioner": practitioner, **_who_when(patient, assessment)},
            ) from None
        if PATIENT_OVERLAP in str(exc):
            raise ValidationError(
                PATIENT_BUSY, code="patient_busy", params=_who_when(patient, assessment)
            ) from None
        raise


def _record(appointment, kind, *, by, now, **details):
    AppointmentEvent.objects.create(
        appointment=appointment, kind=kind, by=by, at=now, details=details
    )


@transaction.atomic
def appointment_book(
    *,
    patient,
    practitioner,
    procedure,
    starts_at,
    booked_by,
    attestation="",
    notes="",
    now=None,
) -> Appointment:
    now = now or timezone.now()
    _lock(practitioners=[practitioner], patient=patient)
    assessment = assess(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=starts_at,
        attestation=attestation,
        now=now,
    )
    _check_patient_free(patient=patient, assessment=assessment)
    appointment = Appointment(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        booked_at=now,
        booked_by=booked_by,
        notes=notes.strip(),
    )
    _apply(appointment, assessment, attestation=attestation, by=booked_by, now=now)
    appointment.full_clean()
    _save_guarded(appointment, patient=patient, practitioner=practitioner, assessment=assessment)
    _record(
        appointment,
        AppointmentEvent.Kind.BOOKED,
        by=booked_by,
        now=now,
        starts_at=assessment.starts_at.isoformat(),
        precare_flag=appointment.precare_flag,
    )
    notifications.appointment_booked(appointment, now=now)
    return appointment


def _locked_appointment(appointment, *, allowed, action):
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status not in allowed:
        raise ValidationError(
            NOT_BOOKED,
            code="wrong_status",
            params={"status": locked.get_status_display().lower(), "action": action},
        )
    return locked


@transaction.atomic
def appointment_reschedule(
    *, appointment, starts_at, by, practitioner=None, attestation="", now=None
) -> Appointment:
    """Move a booked appointment, under the same rules as a new booking: the
    pre-care window is worked out again from today."""
    now = now or timezone.now()
    current = Appointment.objects.select_related("practitioner", "patient").get(pk=appointment.pk)
    practitioner = practitioner or current.practitioner
    _lock(practitioners={current.practitioner, practitioner}, patient=current.patient)
    appointment = _locked_appointment(
        appointment, allowed=[Appointment.Status.BOOKED], action="moved"
    )
    before = {
        "from": appointment.starts_at.isoformat(),
        "from_practitioner": appointment.practitioner_id,
    }
    assessment = assess(
        patient=current.patient,
        practitioner=practitioner,
        procedure=appointment.procedure,
        starts_at=starts_at,
        attestation=attestation,
        now=now,
        ignore=appointment,
    )
    _check_patient_free(patient=current.patient, assessment=assessment, ignore=appointment)
    appointment.practitioner = practitioner
    _apply(appointment, assessment, attestation=attestation, by=by, now=now)
    appointment.full_clean()
    _save_guarded(
        appointment, patient=current.patient, practitioner=practitioner, assessment=assessment
    )
    _record(
        appointment,
        AppointmentEvent.Kind.MOVED,
        by=by,
        now=now,
        to=assessment.starts_at.isoformat(),
        to_practitioner=practitioner.pk,
        precare_flag=appointment.precare_flag,
        **before,
    )
    notifications.appointment_moved(
        appointment,
        now=now,
        previous_start=current.starts_at,
        moves=appointment.events.filter(kind=AppointmentEvent.Kind.MOVED).count(),
    )
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment, by, reason, now=None) -> Appointment:
    now = now or timezone.now()
    if not (reason or "").strip():
        raise ValidationError(CANCEL_REASON_REQUIRED, code="reason_required")
    appointment = _locked_appointment(
        appointment,
        allowed=[Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN],
        action="cancelled",
    )
    previous = appointment.status
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancel_reason = reason.strip()
    appointment.full_clean()
    appointment.save(update_fields=["status", "cancel_reason", "updated_at"])
    _record(
        appointment,
        AppointmentEvent.Kind.CANCELLED,
        by=by,
        now=now,
        reason=appointment.cancel_reason,
        previous=previous,
    )
    notifications.appointment_cancelled(
        appointment,
        now=now,
        moves=appointment.events.filter(kind=AppointmentEvent.Kind.MOVED).count(),
    )
    return appointment


@transaction.atomic
def appointment_check_in(*, appointment, by, kept_window: bool, now=None) -> Appointment:
    """The patient has arrived. The history must be on file and current,
    screening runs again for today, and the patient confirms they kept the
    pre-care window; "no" blocks treatment and names the earliest new date."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    appointment = _locked_appointment(
        appointment, allowed=[Appointment.Status.BOOKED], action="checked in"
    )
    patient = appointment.patient
    if appointment.local_date != today:
        raise ValidationError(
            NOT_TODAY, code="not_today", params={"day": _day(appointment.local_date)}
        )
    screening = screen_patient(
        patient=patient, procedure=appointment.procedure, on=today, today=today
    )
    if screening.history_state == HistoryState.MISSING:
        raise ValidationError(HISTORY_MISSING, code="history_missing", params={"patient": patient})
    if screening.history_state == HistoryState.STALE:
        raise ValidationError(
            HISTORY_STALE,
            code="history_stale",
            params={"patient": patient, "expired": _day(screening.history.expires_on)},
        )
    if screening.history_state == HistoryState.INCOMPLETE:
        raise ValidationError(
            HISTORY_INCOMPLETE,
            code="history_incomplete",
            params={"patient": patient, "date": _day(screening.history.submitted_on)},
        )
    if screening.is_contraindicated:
        raise ValidationError(
            CONTRAINDICATED,
            code="contraindicated",
            params={"patient": patient, "procedure": appointment.procedure, "day": _day(today)},
        )
    if not kept_window:
        earliest = today + timedelta(days=appointment.procedure.timing.precare_min_days)
        raise ValidationError(
            PRECARE_NOT_KEPT,
            code="precare_not_kept",
            params={"earliest": _day(earliest), "earliest_date": earliest},
        )
    appointment.status = Appointment.Status.CHECKED_IN
    appointment.precare_confirmed_at = now
    appointment.precare_confirmed_by = by
    appointment.history_state = screening.history_state
    appointment.screening_outcome = screening.screening.outcome
    appointment.screening_codes = screening.screening.codes
    appointment.on_anticoagulants = bool(screening.history.anticoagulant_names())
    appointment.save()
    _record(appointment, AppointmentEvent.Kind.CHECKED_IN, by=by, now=now, kept_window=True)
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, appointment, by, now=None) -> Appointment:
    now = now or timezone.now()
    appointment = _locked_appointment(
        appointment, allowed=[Appointment.Status.BOOKED], action="marked a no-show"
    )
    if now < appointment.starts_at:
        raise ValidationError(
            TOO_EARLY_FOR_NO_SHOW,
            code="too_early",
            params={"start": _time(appointment.starts_at)},
        )
    appointment.status = Appointment.Status.NO_SHOW
    appointment.save(update_fields=["status", "updated_at"])
    _record(appointment, AppointmentEvent.Kind.NO_SHOW, by=by, now=now)
    return appointment


@transaction.atomic
def appointment_complete(*, appointment, by, now=None) -> Appointment:
    """Called when the treatment record is signed."""
    now = now or timezone.now()
    appointment = _locked_appointment(
        appointment, allowed=[Appointment.Status.CHECKED_IN], action="completed"
    )
    appointment.status = Appointment.Status.COMPLETED
    appointment.save(update_fields=["status", "updated_at"])
    _record(appointment, AppointmentEvent.Kind.COMPLETED, by=by, now=now)
    return appointment


# The patient, on the portal

TOO_LATE_TO_CHANGE = (
    "Your appointment is less than %(hours)s hours away, so it can no longer be changed "
    "online. Please call us on %(phone)s."
)


def _check_notice(appointment, now):
    hours = settings.CANCELLATION_NOTICE_HOURS
    if appointment.starts_at - now < timedelta(hours=hours):
        raise ValidationError(
            TOO_LATE_TO_CHANGE,
            code="too_late_to_change",
            params={"hours": hours, "phone": settings.CLINIC_PHONE},
        )


def patient_cancel(*, appointment, by, reason="", now=None):
    """A patient cancels their own appointment, within the notice period."""
    now = now or timezone.now()
    _check_notice(appointment, now)
    text = reason.strip() or "no reason given"
    return appointment_cancel(
        appointment=appointment, by=by, reason=f"Cancelled by the patient online: {text}", now=now
    )


def patient_move(*, appointment, by, starts_at, practitioner=None, now=None):
    """A patient moves their own appointment, within the notice period, under
    every booking rule; they cannot record a statement to book inside the
    pre-care window (only staff can, after talking to them)."""
    now = now or timezone.now()
    _check_notice(appointment, now)
    return appointment_reschedule(
        appointment=appointment, starts_at=starts_at, by=by, practitioner=practitioner, now=now
    )
