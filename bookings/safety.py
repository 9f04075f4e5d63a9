"""What the safety engine knows, read from the database (treatments.safety.engine
is pure; this is its one reader at the bookings layer).

`patient_facts` costs at most three queries: the latest history (unless
given), the patient's appointments (past treatments and other bookings, with
their procedures' agents), and the clinic's longer windows for the blood
thinners the patient takes (only when they take any).
"""

from datetime import date

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from bookings.models import Appointment
from clinic.models import MedicalHistory
from treatments.models.catalog import Procedure, SubstanceWindow
from treatments.rules import Agent
from treatments.safety.engine import (
    Case,
    DoseLimits,
    OtherAppointment,
    Part,
    PastTreatment,
    PatientFacts,
    ProcedureFacts,
    toxin_possible_from,
    window_days_for,
)

_UNLOADED = object()


def procedure_facts(procedure) -> ProcedureFacts:
    timing = procedure.timing
    return ProcedureFacts(
        name=procedure.name,
        parts=tuple(
            Part(
                name=part.name,
                agent=part.agent,
                min_days_between=part.min_days_between,
                doses=DoseLimits(
                    part.dose_typical,
                    part.dose_maximum,
                    part.dose_line_ceiling,
                    part.dose_session_ceiling,
                )
                if part.dose_limits_set
                else None,
            )
            for part in procedure.parts()
        ),
        precare_min_days=timing.precare_min_days,
        precare_recommended_days=timing.precare_recommended_days,
    )


def _appointments(patient, exclude, now=None):
    """(past treatments, other active bookings, occupied times) of the
    patient, in one query: a combined procedure's agents come from its parts
    (a row each). With `now`, the patient's own holds that have not lapsed
    are read too, for the occupied times only: a hold is no booking to the
    engine's rules."""
    active = Q(status__in=Appointment.ACTIVE)
    if now is not None:
        active |= Q(status=Appointment.Status.HELD, held_until__gt=now)
    rows = (
        Appointment.with_holds.filter(active, patient=patient)
        .exclude(pk=getattr(exclude, "pk", None))
        .values_list(
            "pk",
            "starts_at",
            "blocked_until",
            "status",
            "procedure__name",
            "procedure__agent",
            "procedure__components__agent",
        )
    )
    found = {}
    for pk, starts_at, blocked_until, status, name, agent, part_agent in rows:
        entry = found.setdefault(pk, [starts_at, blocked_until, status, name, set()])
        entry[4].update(a for a in (agent, part_agent) if a)
    past, booked, occupied = [], [], []
    for starts_at, blocked_until, status, name, agents in found.values():
        occupied.append((starts_at, blocked_until))
        day = timezone.localdate(starts_at)
        if status == Appointment.Status.COMPLETED:
            past.append(PastTreatment(day, frozenset(agents)))
        elif status != Appointment.Status.HELD:
            booked.append(OtherAppointment(day, name, frozenset(agents)))
    return past, booked, occupied


def _stated_elsewhere(history):
    day = getattr(history, "toxin_elsewhere_date", None)
    if history is not None and getattr(history, "toxin_elsewhere", False) and day:
        return [PastTreatment(day, frozenset({Agent.TOXIN}), elsewhere=True)]
    return []


def patient_facts(
    patient, *, today: date, history=_UNLOADED, exclude=None, load_windows=True, now=None
) -> PatientFacts:
    """Everything the engine needs to know about `patient`; `exclude` is the
    appointment being moved or treated (not "another" appointment). With
    `now`, the times the patient occupies come too (holds included)."""
    if history is _UNLOADED:
        history = MedicalHistory.objects.latest_for(patient)
    past, booked, occupied = _appointments(patient, exclude, now)
    thinners = list(getattr(history, "otc_blood_thinners", None) or [])
    windows = ()
    if thinners and load_windows:
        windows = tuple(
            SubstanceWindow.objects.filter(substance__in=thinners).values_list(
                "substance", "min_days", "recommended_days"
            )
        )
    return PatientFacts(
        name=patient.full_name,
        date_of_birth=patient.date_of_birth,
        history=history,
        history_state=MedicalHistory.state_of(history, today=today),
        history_expires_on=history.expires_on if history else None,
        past=tuple(past + _stated_elsewhere(history)),
        booked=tuple(booked),
        substance_windows=windows,
        occupied=tuple(occupied),
    )


def safety_case(
    *, patient, procedure, day, step, now, exclude=None, history=_UNLOADED, **extra
) -> Case:
    """The engine's case for `patient` and `procedure` on local `day`; pass
    `history` (the latest, or None) when it is already loaded."""
    today = timezone.localdate(now)
    return Case(
        step=step,
        today=today,
        day=day,
        procedure=procedure_facts(procedure),
        patient=patient_facts(patient, today=today, history=history, exclude=exclude, now=now),
        notice_hours=settings.CANCELLATION_NOTICE_HOURS,
        phone=settings.CLINIC_PHONE,
        **extra,
    )


def newcomer_case(*, name, date_of_birth, procedure, day, step, now, **extra) -> Case:
    """The engine's case for someone booking online who is not yet a patient:
    what they typed (name, date of birth) and nothing else on file."""
    return Case(
        step=step,
        today=timezone.localdate(now),
        day=day,
        procedure=procedure_facts(procedure),
        patient=PatientFacts(name=name, date_of_birth=date_of_birth),
        notice_hours=settings.CANCELLATION_NOTICE_HOURS,
        phone=settings.CLINIC_PHONE,
        **extra,
    )


def next_toxin_dates(patient, *, today: date, history=_UNLOADED, procedures=None):
    """[(procedure, first possible day, gap in days)] for each offered procedure with a
    toxin part that the patient cannot have yet: "next lip flip possible from
    ..." on their pages. Pass `procedures` (the offered ones, with their parts)
    when the page has them already."""
    facts = patient_facts(patient, today=today, history=history, load_windows=False)
    if procedures is None:
        procedures = Procedure.objects.active().with_parts()
    found = []
    for procedure in procedures:
        parts = procedure_facts(procedure).parts
        days = [toxin_possible_from(facts, part) for part in parts]
        day = max((d for d in days if d), default=None)
        if day and day > today:
            gap = max(part.min_days_between or 0 for part in parts)
            found.append((procedure, day, gap))
    return found


def patient_window(patient, procedure, *, history) -> tuple[int, int]:
    """(minimum, recommended) pre-care days for this patient and procedure:
    the procedure's, lengthened for the blood thinners their history lists.
    No query unless the history lists one."""
    thinners = list(getattr(history, "otc_blood_thinners", None) or [])
    windows = ()
    if thinners:
        windows = tuple(
            SubstanceWindow.objects.filter(substance__in=thinners).values_list(
                "substance", "min_days", "recommended_days"
            )
        )
    timing = procedure.timing
    return window_days_for(timing.precare_min_days, timing.precare_recommended_days, windows)
