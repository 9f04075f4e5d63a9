"""Writes about appointments: book, move, cancel, check in, no-show, complete.

Every service is keyword-only, takes an optional `now` for tests, runs in one
transaction and raises ValidationError with a stable `code` (a module
constant's name in lower case) and a message that says what to do. A refusal
saves nothing.

Double booking is prevented twice. The services check for overlaps first;
on PostgreSQL, exclusion constraints over the occupied time range (migration
bookings/0002) then refuse whatever two concurrent bookings let past the
check, and the caller gets the same "just taken" refusal. The patient's row is
locked before the checks (`_lock`), so two bookings of one patient queue and
the second sees the first under every rule of the engine. On SQLite the
IMMEDIATE transaction serialises writers, which does both.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from bookings import messages
from bookings.availability import APPOINTMENT, TIME_OFF, Schedule
from bookings.models import Appointment, AppointmentEvent
from bookings.safety import newcomer_case, procedure_facts, safety_case
from clinic.models import MedicalHistory, OnlineBookingSettings, Patient
from clinic.refusals import Refusal, Refused
from treatments.rules import Screening, screen
from treatments.safety import engine
from treatments.safety.engine import Case, Step, evaluate

IN_PAST = Refusal("in_past", "That time has already passed. Pick a time later than now.")
OFF_GRID = Refusal(
    "off_grid",
    "Appointments start every %(grid)s minutes (10:00, 10:%(grid)02d and so on). Pick one of "
    "those times.",
)
PROCEDURE_NOT_OFFERED = Refusal(
    "procedure_not_offered", "%(procedure)s is no longer offered. Pick another procedure."
)
PRACTITIONER_NOT_BOOKABLE = Refusal(
    "practitioner_not_bookable",
    "%(practitioner)s is not taking bookings. Pick another practitioner.",
)
OUTSIDE_HOURS = Refusal(
    "outside_hours",
    "%(practitioner)s is not working for the whole of %(start)s to %(end)s on %(day)s "
    "(the appointment and the room's buffer must fit in their hours and the clinic's). "
    "Pick one of the free slots.",
)
PRACTITIONER_AWAY = Refusal(
    "practitioner_away",
    "%(practitioner)s is away at that time. Pick another practitioner or another day.",
)
SLOT_TAKEN = Refusal(
    "slot_taken",
    "%(practitioner)s is no longer free at %(start)s on %(day)s: another appointment "
    "overlaps it (it may have just been booked). Pick another slot.",
)
PATIENT_BUSY = Refusal(
    "patient_busy",
    "%(patient)s already has an appointment that overlaps %(start)s on %(day)s. "
    "Pick another time, or move that appointment first.",
)
NOT_BOOKED = Refusal("wrong_status", "This appointment is %(status)s, so it cannot be %(action)s.")
CANCEL_REASON_REQUIRED = Refusal(
    "cancel_reason_required",
    "Give a reason for cancelling, e.g. 'patient unwell'.",
    field="reason",
)
NOT_TODAY = Refusal("not_today", "Check-in is on the day of the appointment, %(day)s.")
TOO_EARLY_FOR_NO_SHOW = Refusal(
    "too_early", "The appointment starts at %(start)s. Mark a no-show only after that."
)
HOLD_GONE = Refusal(
    "hold_gone",
    "We kept that time for you for %(minutes)s minutes, and it has been released. Pick a "
    "time again (it may still be free).",
)

PRACTITIONER_OVERLAP = "bookings_appointment_no_practitioner_overlap"
PATIENT_OVERLAP = "bookings_appointment_no_patient_overlap"


def _day(value: date):
    return date_format(value, "l j F Y")


def _time(moment):
    return timezone.localtime(moment).strftime("%H:%M")


@dataclass(frozen=True)
class Assessment:
    """What booking `procedure` at `starts_at` means, before anything is saved:
    the times and every verdict of the safety engine (flags included)."""

    starts_at: object
    ends_at: object
    blocked_until: object
    safety: engine.Assessment
    screening: Screening | None  # None when there is no history to screen

    @property
    def precare(self):
        return self.safety.precare

    @property
    def treated_agents(self):
        """The agents of the patient's treatments here (not elsewhere)."""
        return {
            agent
            for past in self.safety.case.patient.past
            if not past.elsewhere
            for agent in past.agents
        }

    @property
    def occupied(self):
        """(start, end) of the times the patient already occupies."""
        return self.safety.case.patient.occupied

    @property
    def attested(self):
        return "precare_attested" in self.safety.codes()

    @property
    def flags(self):
        return self.safety.flags

    @property
    def history_state(self):
        return self.safety.case.patient.history_state

    @property
    def precare_flag(self):
        if self.attested:
            return Appointment.PrecareFlag.ATTESTED
        if "precare_short" in self.safety.codes():
            return Appointment.PrecareFlag.SHORT
        return Appointment.PrecareFlag.NONE

    @property
    def anticoagulants(self):
        """Prescribed blood thinners named in the latest history."""
        history = self.safety.case.patient.history
        return history.anticoagulant_names() if history else []

    @property
    def on_anticoagulants(self):
        return bool(self.anticoagulants)


def _online_policy(procedure, practitioner, step, *, starts_at, now):
    """What the engine's online policy needs at a patient's own steps (the
    clinic's online-booking settings: one query, at those steps only)."""
    if step not in (Step.PATIENT_BOOK, Step.PATIENT_MOVE):
        return {}
    not_offered = ""
    if not procedure.online_booking:
        not_offered = str(procedure)
    elif not practitioner.online_booking:
        not_offered = f"An appointment with {practitioner}"
    policy = OnlineBookingSettings.current()
    return {
        "offered_online": not not_offered,
        "not_offered": not_offered,
        "days_ahead_limit": policy.days_ahead,
        "min_notice_hours": policy.min_notice_hours,
        "hours_ahead": (starts_at - now).total_seconds() / 3600,
    }


def _screen(history, *, patient, procedure, day):
    if history is None:
        return None
    return screen(
        answers=history, agents=procedure.agents, on=day, date_of_birth=patient.date_of_birth
    )


def assess(
    *,
    patient,
    practitioner,
    procedure,
    starts_at,
    attestation="",
    now=None,
    ignore=None,
    step=Step.BOOK,
    hours_left=None,
    newcomer=None,
) -> Assessment:
    """Check a proposed booking against every rule. `patient` is None for
    someone booking online who is not yet a patient: `newcomer` holds what
    they typed ({"name": ..., "date_of_birth": ...}). The safety engine's
    refusals come first, all at once (`Refused`, with the earliest date that
    clears them), then the time (hours, time off, other appointments), so the
    front desk hears first what no other time would fix.

    Used by the booking page to show every verdict before the user confirms,
    and by the services below."""
    now = now or timezone.now()
    day = timezone.localdate(starts_at)
    timing = procedure.timing
    ends_at = starts_at + timedelta(minutes=timing.chair_minutes)
    blocked_until = ends_at + timedelta(minutes=timing.buffer_minutes)
    when = {"start": _time(starts_at), "end": _time(blocked_until), "day": _day(day)}

    if starts_at <= now:
        raise IN_PAST.error()
    local = timezone.localtime(starts_at)
    if local.minute % settings.BOOKING_GRID_MINUTES or local.second or local.microsecond:
        raise OFF_GRID.error(grid=settings.BOOKING_GRID_MINUTES)
    if not procedure.is_active:
        raise PROCEDURE_NOT_OFFERED.error(procedure=procedure)
    if not (practitioner.is_active and practitioner.user.is_active):
        raise PRACTITIONER_NOT_BOOKABLE.error(practitioner=practitioner)

    policy = _online_policy(procedure, practitioner, step, starts_at=starts_at, now=now)
    if patient is None:
        history = None
        case = newcomer_case(**newcomer, procedure=procedure, day=day, step=step, now=now, **policy)
    else:
        history = MedicalHistory.objects.latest_for(patient)
        case = safety_case(
            patient=patient,
            procedure=procedure,
            day=day,
            step=step,
            now=now,
            exclude=ignore,
            history=history,
            attested=bool(attestation.strip()),
            hours_left=hours_left,
            **policy,
        )
    safety = evaluate(case)
    if safety.refused:
        raise Refused(safety.refusals)

    schedule = Schedule.load(
        first_day=day, last_day=day, practitioners=[practitioner], ignore=ignore, now=now
    )
    if not schedule.within_working_time(practitioner.pk, starts_at, blocked_until):
        raise OUTSIDE_HOURS.error(practitioner=practitioner, **when)
    if schedule.conflicts(practitioner.pk, starts_at, blocked_until, TIME_OFF):
        raise PRACTITIONER_AWAY.error(practitioner=practitioner)
    if schedule.conflicts(practitioner.pk, starts_at, blocked_until, APPOINTMENT):
        raise SLOT_TAKEN.error(practitioner=practitioner, **when)

    screening = _screen(history, patient=patient, procedure=procedure, day=day)
    return Assessment(starts_at, ends_at, blocked_until, safety, screening)


def _lock(*, practitioners, patient, now, keep=None):
    """Before a booking's checks: lock the patient's row, so that two
    bookings of one patient (two practitioners, two desks) queue and the
    second sees the first (the 90-day gap, their other appointments); then
    delete the lapsed holds that PostgreSQL's exclusion constraints would
    otherwise still count (a constraint cannot read the clock): the
    practitioners' and the patient's own. One statement when there are none,
    the usual case.

    The practitioner's row is not locked: on PostgreSQL the exclusion
    constraint refuses a second booking of their time however close the two
    come (`_save_guarded`). On SQLite the IMMEDIATE transaction already
    serialises writers, and a lapsed hold blocks nothing there (every check
    reads holds with the clock), so there is nothing to do."""
    if connection.vendor != "postgresql":
        return
    table = Appointment._meta.db_table
    lapsed = (
        f"SELECT 1 FROM {table} a WHERE a.status = %s AND a.held_until <= %s "
        "AND a.id <> %s AND (a.practitioner_id = ANY(%s)"
    )
    params = [Appointment.Status.HELD, now, keep or 0, sorted({p.pk for p in practitioners})]
    with connection.cursor() as cursor:
        if patient is None:
            cursor.execute(f"SELECT EXISTS ({lapsed}))", params)
        else:
            cursor.execute(
                f"SELECT EXISTS ({lapsed} OR a.patient_id = p.id)) "
                f"FROM {Patient._meta.db_table} p WHERE p.id = %s FOR UPDATE OF p",
                [*params, patient.pk],
            )
        row = cursor.fetchone()
    if row is None:
        raise Patient.DoesNotExist(f"Patient {patient.pk} is no longer on file.")
    if row[0]:
        whose = Q(practitioner__in=params[3])
        if patient is not None:
            whose |= Q(patient=patient)
        Appointment.with_holds.expired_holds(now).filter(whose).exclude(pk=keep).delete()


def _check_patient_free(*, patient, assessment):
    """The patient's other appointments and live holds were read with the
    engine's facts, under the patient's lock (`assess`, `_lock`)."""
    if patient is None:
        return
    starts_at, until = assessment.starts_at, assessment.blocked_until
    if any(s < until and e > starts_at for s, e in assessment.occupied):
        raise PATIENT_BUSY.error(**_who_when(patient, assessment))


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
    _record_screening(appointment, assessment.safety, assessment.screening)


DEADLOCK = "40P01"


# Set by the service from rows it has just read (patient and practitioner
# locked); the database's foreign keys stand behind them. full_clean() would
# spend a query on each to find what is already known.
LOADED_FIELDS = ["patient", "practitioner", "procedure", "booked_by", "attestation_recorded_by"]


def _full_clean(appointment):
    """Every field check but the foreign keys' lookups (LOADED_FIELDS), and no
    constraint check: the database runs those on the insert anyway (times in
    order; on PostgreSQL no overlap, turned into a refusal by _save_guarded),
    and Django would run each as a query of its own first."""
    appointment.full_clean(exclude=LOADED_FIELDS, validate_constraints=False)


def _save_guarded(appointment, *, patient, practitioner, assessment):
    """Save, turning an exclusion-constraint violation (PostgreSQL) into the
    same refusal the locked check gives. Two inserts that conflict under an
    exclusion constraint at the same moment can also deadlock: PostgreSQL
    aborts one of them, and that one was, in effect, just beaten to the slot.

    No savepoint of its own: the refusal leaves the service's transaction at
    once, which rolls back the failed insert with everything else."""
    try:
        appointment.save()
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != DEADLOCK:
            raise
        raise SLOT_TAKEN.error(
            practitioner=practitioner, **_who_when(patient, assessment)
        ) from None
    except IntegrityError as exc:
        if PRACTITIONER_OVERLAP in str(exc):
            raise SLOT_TAKEN.error(
                practitioner=practitioner, **_who_when(patient, assessment)
            ) from None
        if PATIENT_OVERLAP in str(exc):
            raise PATIENT_BUSY.error(**_who_when(patient, assessment)) from None
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
    step=Step.BOOK,
) -> Appointment:
    now = now or timezone.now()
    _lock(practitioners=[practitioner], patient=patient, now=now)
    assessment = assess(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=starts_at,
        attestation=attestation,
        now=now,
        step=step,
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
    _full_clean(appointment)
    _save_guarded(appointment, patient=patient, practitioner=practitioner, assessment=assessment)
    _record(
        appointment,
        AppointmentEvent.Kind.BOOKED,
        by=booked_by,
        now=now,
        starts_at=assessment.starts_at.isoformat(),
        precare_flag=appointment.precare_flag,
    )
    messages.appointment_booked(
        appointment,
        now=now,
        anticoagulants=assessment.anticoagulants,
        treated_agents=assessment.treated_agents,
    )
    return appointment


def _locked_appointment(appointment, *, allowed, action):
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status not in allowed:
        raise NOT_BOOKED.error(status=locked.get_status_display().lower(), action=action)
    return locked


def appointment_reschedule(
    *, appointment, starts_at, by, practitioner=None, attestation="", now=None
) -> Appointment:
    """Move a booked appointment, under the same rules as a new booking: the
    pre-care window is worked out again from today."""
    return _reschedule(
        appointment=appointment,
        starts_at=starts_at,
        by=by,
        practitioner=practitioner,
        attestation=attestation,
        now=now,
        step=Step.MOVE,
    )


@transaction.atomic
def _reschedule(
    *, appointment, starts_at, by, step, practitioner=None, attestation="", now=None
) -> Appointment:
    now = now or timezone.now()
    current = Appointment.objects.select_related("practitioner", "patient").get(pk=appointment.pk)
    practitioner = practitioner or current.practitioner
    _lock(practitioners={current.practitioner, practitioner}, patient=current.patient, now=now)
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
        step=step,
        hours_left=_hours_left(appointment, now) if step == Step.PATIENT_MOVE else None,
    )
    _check_patient_free(patient=current.patient, assessment=assessment)
    appointment.practitioner = practitioner
    _apply(appointment, assessment, attestation=attestation, by=by, now=now)
    _full_clean(appointment)
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
    messages.appointment_moved(
        appointment,
        now=now,
        previous_start=current.starts_at,
        moves=appointment.events.filter(kind=AppointmentEvent.Kind.MOVED).count(),
    )
    if (current.practitioner_id, current.starts_at) != (practitioner.pk, appointment.starts_at):
        _offer_freed(practitioner=current.practitioner, starts_at=current.starts_at, now=now)
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment, by, reason, now=None) -> Appointment:
    now = now or timezone.now()
    if not (reason or "").strip():
        raise CANCEL_REASON_REQUIRED.error()
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
    messages.appointment_cancelled(
        appointment,
        now=now,
        moves=appointment.events.filter(kind=AppointmentEvent.Kind.MOVED).count(),
    )
    _offer_freed(practitioner=appointment.practitioner, starts_at=appointment.starts_at, now=now)
    return appointment


def _offer_freed(*, practitioner, starts_at, now):
    """The time just freed goes to the waitlist, in this transaction: an offer
    exists exactly when the time was freed (bookings.waitlist, which books
    through these services, hence the import here)."""
    from bookings.waitlist import waitlist_offer_freed

    waitlist_offer_freed(practitioner=practitioner, starts_at=starts_at, now=now)


def _record_screening(appointment, safety, screening):
    """Keep on the appointment what the calendar and the practitioner see:
    the history's state, the screening outcome and flags."""
    history = safety.case.patient.history
    appointment.history_state = safety.case.patient.history_state
    appointment.screening_outcome = screening.outcome if screening else ""
    appointment.screening_codes = screening.codes if screening else []
    appointment.on_anticoagulants = bool(history and history.anticoagulant_names())


@transaction.atomic
def appointment_check_in(*, appointment, by, now=None) -> Appointment:
    """The patient has arrived (the front desk's marker). The engine runs for
    today: age, the toxin gap and the medical history's contraindications
    refuse; a missing or out-of-date history is flagged (it must be done
    before the treatment starts). The pre-care window is confirmed later, by
    the treating practitioner, in the same-day check."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    appointment = _locked_appointment(
        appointment, allowed=[Appointment.Status.BOOKED], action="checked in"
    )
    patient = appointment.patient
    if appointment.local_date != today:
        raise NOT_TODAY.error(day=_day(appointment.local_date))
    history = MedicalHistory.objects.latest_for(patient)
    safety = evaluate(
        safety_case(
            patient=patient,
            procedure=appointment.procedure,
            day=today,
            step=Step.CHECK_IN,
            now=now,
            exclude=appointment,
            history=history,
        )
    )
    if safety.refused:
        raise Refused(safety.refusals)
    appointment.status = Appointment.Status.CHECKED_IN
    screening = _screen(history, patient=patient, procedure=appointment.procedure, day=today)
    _record_screening(appointment, safety, screening)
    appointment.save()
    _record(
        appointment,
        AppointmentEvent.Kind.CHECKED_IN,
        by=by,
        now=now,
        flags=[f.code for f in safety.flags],
    )
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, appointment, by, now=None) -> Appointment:
    now = now or timezone.now()
    appointment = _locked_appointment(
        appointment, allowed=[Appointment.Status.BOOKED], action="marked a no-show"
    )
    if now < appointment.starts_at:
        raise TOO_EARLY_FOR_NO_SHOW.error(start=_time(appointment.starts_at))
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


def _hours_left(appointment, now):
    return (appointment.starts_at - now).total_seconds() / 3600


@transaction.atomic
def patient_cancel(*, appointment, by, reason="", now=None):
    """A patient cancels their own appointment, within the notice period
    (the engine's online policy)."""
    now = now or timezone.now()
    current = Appointment.objects.select_related("patient", "procedure").get(pk=appointment.pk)
    patient = current.patient
    safety = evaluate(
        Case(
            step=Step.PATIENT_CANCEL,
            today=timezone.localdate(now),
            day=current.local_date,
            procedure=procedure_facts(current.procedure),
            patient=engine.PatientFacts(
                name=patient.full_name, date_of_birth=patient.date_of_birth
            ),
            hours_left=_hours_left(current, now),
            notice_hours=settings.CANCELLATION_NOTICE_HOURS,
            phone=settings.CLINIC_PHONE,
        )
    )
    if safety.refused:
        raise Refused(safety.refusals)
    text = reason.strip() or "no reason given"
    return appointment_cancel(
        appointment=appointment, by=by, reason=f"Cancelled by the patient online: {text}", now=now
    )


def patient_move(*, appointment, by, starts_at, practitioner=None, now=None):
    """A patient moves their own appointment, under every booking rule plus
    the online policy: within the notice period, and only to a time that
    gives the recommended pre-care window (no statement can be recorded
    online: that needs a conversation with the front desk)."""
    now = now or timezone.now()
    return _reschedule(
        appointment=appointment,
        starts_at=starts_at,
        by=by,
        practitioner=practitioner,
        now=now,
        step=Step.PATIENT_MOVE,
    )


def patient_book(*, patient, practitioner, procedure, starts_at, by, now=None) -> Appointment:
    """A patient books for themselves on the portal, under every booking rule
    plus the online policy (the safety engine's PATIENT_BOOK step): only a
    time that gives the full recommended pre-care window, and no statement
    to book inside it (that needs a conversation with the front desk)."""
    return appointment_book(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=starts_at,
        booked_by=by,
        now=now,
        step=Step.PATIENT_BOOK,
    )


# Holds: a time kept while someone books online (migration bookings/0009)


@transaction.atomic
def appointment_hold(
    *,
    practitioner,
    procedure,
    starts_at,
    by,
    patient=None,
    newcomer=None,
    now=None,
) -> Appointment:
    """Keep `starts_at` for BOOKING_HOLD_MINUTES while a patient finishes
    booking online: a `held` row that blocks the time for everyone else (the
    same checks as a booking, and the same exclusion constraints on
    PostgreSQL), but is no appointment on any page. Every rule the engine can
    already judge runs now (the online policy, the window, age from the date
    of birth typed); the rest runs again when the hold is booked."""
    now = now or timezone.now()
    _lock(practitioners=[practitioner], patient=patient, now=now)
    assessment = assess(
        patient=patient,
        newcomer=newcomer,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=starts_at,
        now=now,
        step=Step.PATIENT_BOOK,
    )
    _check_patient_free(patient=patient, assessment=assessment)
    hold = Appointment(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        status=Appointment.Status.HELD,
        held_until=now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES),
        booked_at=now,
        booked_by=by,
    )
    _apply(hold, assessment, attestation="", by=by, now=now)
    _full_clean(hold)
    _save_guarded(hold, patient=patient, practitioner=practitioner, assessment=assessment)
    return hold


def _locked_hold(hold_pk, *, now):
    """The hold, locked; HOLD_GONE when it was released, or when it has
    lapsed and someone else has the time since (a lapsed hold is not
    always deleted at once: on SQLite it blocks nothing and waits for the
    sweep)."""
    hold = (
        Appointment.with_holds.select_for_update()
        .filter(pk=hold_pk, status=Appointment.Status.HELD)
        .first()
    )
    if hold is None or (
        hold.held_until <= now
        and Appointment.with_holds.occupying(now)
        .filter(practitioner=hold.practitioner_id)
        .exclude(pk=hold.pk)
        .overlapping(hold.starts_at, hold.blocked_until)
        .exists()
    ):
        raise HOLD_GONE.error(minutes=settings.BOOKING_HOLD_MINUTES)
    return hold


@transaction.atomic
def hold_extend(*, hold_pk, now=None) -> Appointment:
    """Keep a hold BOOKING_HOLD_MINUTES from now (the patient has just proved
    their email): refused once it has lapsed and someone else has the time."""
    now = now or timezone.now()
    hold = _locked_hold(hold_pk, now=now)
    hold.held_until = now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    hold.save(update_fields=["held_until", "updated_at"])
    return hold


@transaction.atomic
def hold_book(*, hold_pk, patient, by, now=None) -> Appointment:
    """Turn a hold into the patient's booking, under every rule of the
    PATIENT_BOOK step (the history is on file by now, so screening runs).
    A lapsed hold still books if nobody has taken the time since."""
    now = now or timezone.now()
    hold = (
        Appointment.with_holds.select_related("practitioner", "procedure")
        .filter(pk=hold_pk, status=Appointment.Status.HELD)
        .first()
    )
    if hold is None:
        raise HOLD_GONE.error(minutes=settings.BOOKING_HOLD_MINUTES)
    practitioner = hold.practitioner
    _lock(practitioners=[practitioner], patient=patient, now=now, keep=hold_pk)
    hold = _locked_hold(hold_pk, now=now)
    assessment = assess(
        patient=patient,
        practitioner=practitioner,
        procedure=hold.procedure,
        starts_at=hold.starts_at,
        now=now,
        ignore=hold,
        step=Step.PATIENT_BOOK,
    )
    _check_patient_free(patient=patient, assessment=assessment)
    hold.patient = patient
    hold.status = Appointment.Status.BOOKED
    hold.held_until = None
    hold.booked_at = now
    hold.booked_by = by
    _apply(hold, assessment, attestation="", by=by, now=now)
    _full_clean(hold)
    _save_guarded(hold, patient=patient, practitioner=practitioner, assessment=assessment)
    appointment = Appointment.objects.get(pk=hold.pk)
    _record(
        appointment,
        AppointmentEvent.Kind.BOOKED,
        by=by,
        now=now,
        starts_at=assessment.starts_at.isoformat(),
        precare_flag=appointment.precare_flag,
        online=True,
    )
    messages.appointment_booked(
        appointment,
        now=now,
        anticoagulants=assessment.anticoagulants,
        treated_agents=assessment.treated_agents,
    )
    return appointment


@transaction.atomic
def holds_release_expired(*, now=None) -> int:
    """Delete every lapsed hold (manage.py release_expired_holds)."""
    now = now or timezone.now()
    deleted, _ = Appointment.with_holds.expired_holds(now).delete()
    return deleted
