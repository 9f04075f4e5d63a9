"""The safety engine: every clinical rule, in one pure function.

`evaluate(case)` takes what is known about a patient and a proposal (a
procedure on a local date, at one step of the clinic's day) and returns every
verdict at once: the rule, the outcome (clear, flag for the practitioner,
refuse), a coded message that says what to do, and the earliest date that
would clear it. No database, no clock: `today` and the hours before the
visit are in the case. Services build the case (treatments.safety.facts and
the services themselves) and raise the refusals; pages show the verdicts
before anything is saved.

`APPLIES` is the rules x steps matrix: which rule is checked at which step.
tests/treatments/test_safety_engine.py holds the same table, cell by cell,
and fails when a rule or a step is added without its row.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from clinic.refusals import Refusal
from clinic.rules import HistoryState, add_months, age_on
from treatments.aftercare import RED_FLAG_QUESTIONS
from treatments.rules import (
    FILLER_PER_LIP_WARNING,
    MINIMUM_AGE,
    Agent,
    screen,
)
from treatments.rules import Outcome as Screened
from treatments.safety.precare import Verdict as Window
from treatments.safety.precare import precare_check


class Step(StrEnum):
    """The entry points where the rules are enforced, in the day's order."""

    BOOK = "book"  # staff book an appointment
    MOVE = "move"  # staff move one
    PATIENT_BOOK = "patient_book"  # the patient books online (the portal)
    PATIENT_MOVE = "patient_move"  # the patient moves their own, online
    PATIENT_CANCEL = "patient_cancel"  # the patient cancels their own, online
    CHECK_IN = "check_in"  # the front desk marks the arrival
    TREATMENT_START = "treatment_start"  # the practitioner opens the record
    LINE_ADD = "line_add"  # an injection is charted
    SIGN = "sign"  # the record is signed
    FOLLOW_UP = "follow_up"  # review and rebook dates are set
    PATIENT_REPORT = "patient_report"  # the patient reports a problem afterwards


PATIENT_STEPS = frozenset({Step.PATIENT_BOOK, Step.PATIENT_MOVE, Step.PATIENT_CANCEL})
BOOKING_STEPS = frozenset({Step.BOOK, Step.MOVE, Step.PATIENT_BOOK, Step.PATIENT_MOVE})
# Steps taken by the practitioner, who may read the clinical reasons.
CLINICAL_STEPS = frozenset({Step.TREATMENT_START, Step.LINE_ADD, Step.SIGN, Step.FOLLOW_UP})


class Rule(StrEnum):
    AGE = "age"
    TOXIN_GAP = "toxin_gap"
    HISTORY = "history"
    SCREENING = "screening"
    PRECARE = "precare"
    ONLINE_POLICY = "online_policy"
    SAME_DAY = "same_day"
    DOSES = "doses"
    REBOOK_GAP = "rebook_gap"
    PRESCRIPTION = "prescription"
    RED_FLAGS = "red_flags"
    EMERGENCY_KIT = "emergency_kit"


class Outcome(StrEnum):
    CLEAR = "clear"
    FLAG = "flag"  # allowed; the practitioner reviews
    REFUSE = "refuse"
    EMERGENCY = "emergency"  # the patient calls 999 now; the clinic is told at once


# Refusals and flags, each a code paired with its message.

UNDER_AGE = Refusal(
    "under_age",
    "%(patient)s is %(age)s on %(day)s: cosmetic injections are for adults only. The "
    "earliest date is their 18th birthday, %(earliest)s.",
)
TOXIN_TOO_SOON = Refusal(
    "toxin_too_soon",
    "Too soon for %(part)s: toxin treatments must be at least %(gap)s days apart, and the "
    "last one was on %(last)s (%(where)s). The earliest date is %(earliest)s.",
)
TOXIN_BOOKED_NEARBY = Refusal(
    "toxin_booked_nearby",
    "%(patient)s already has %(other)s booked on %(other_day)s: toxin treatments must be at "
    "least %(gap)s days apart, so only one of them can go ahead. Cancel or move one.",
)
REBOOK_TOO_SOON = Refusal(
    "rebook_too_soon",
    "A rebook date for %(part)s must be at least %(gap)s days after this treatment: "
    "%(earliest)s or later.",
    field="rebook_date",
)
HISTORY_MISSING = Refusal(
    "history_missing",
    "%(patient)s has no medical history on file. Go through the questionnaire with them "
    "(Patients > Medical history) before treatment.",
)
HISTORY_STALE = Refusal(
    "history_stale",
    "%(patient)s's medical history needed re-confirming from %(expired)s. Go through it "
    "with them and save or re-confirm it before treatment.",
)
HISTORY_INCOMPLETE = Refusal(
    "history_incomplete",
    "%(patient)s's medical history is missing answers to questions added since it was "
    "given. Update it with them (the new questions are blank) before treatment.",
)
HISTORY_NEEDED = Refusal(
    "history_needed",
    "The medical history is %(state)s: the patient must complete it before the treatment "
    "can start.",
)
CONTRAINDICATED = Refusal(
    "contraindicated",
    "%(patient)s's medical history rules out %(procedure)s on %(day)s. A practitioner must "
    "review the history before this procedure can go ahead.",
)
RULED_OUT = Refusal(
    "ruled_out",
    "The medical history rules out %(procedure)s: %(reasons)s Do not treat; discuss the "
    "alternatives with the patient.",
)
REVIEW = Refusal(
    "screening_review",
    "Screening flags this for the practitioner's review before treatment.",
)
CAUTION = Refusal("screening_caution", "For you to weigh before treating: %(reasons)s")
PRODUCT_CONTRAINDICATED = Refusal(
    "product_contraindicated",
    "The patient is allergic to cow's milk protein: %(product)s must not be used. Use a toxin "
    "without it (Botox, Vistabel or Bocouture).",
    field="lot",
)
PRECARE_TOO_LATE = Refusal(
    "precare_too_late",
    "Too soon for %(procedure)s: the patient must have no alcohol and no blood thinners for "
    "at least %(min_days)s full days before the visit. The earliest date that works is "
    "%(earliest)s. Pick a date from then on, or record the patient's statement that they "
    "have had none since %(stop)s.",
)
PRECARE_SHORT = Refusal(
    "precare_short",
    "Only the minimum pre-care window is left: the patient must stop alcohol and blood "
    "thinners today.",
)
PRECARE_ATTESTED = Refusal(
    "precare_attested",
    "Inside the pre-care window on the patient's statement that they have had no alcohol or "
    "blood thinners since %(stop)s.",
)
PATIENT_WINDOW = Refusal(
    "patient_window",
    "Online, appointments need the full %(recommended_days)s days without alcohol and blood "
    "thinners. Pick %(earliest)s or later, or call us on %(phone)s.",
)
TOO_LATE_TO_CHANGE = Refusal(
    "too_late_to_change",
    "Your appointment is less than %(hours)s hours away, so it can no longer be changed "
    "online. Please call us on %(phone)s.",
)
NOT_BOOKABLE_ONLINE = Refusal(
    "not_bookable_online",
    "%(what)s cannot be booked online. Please call us on %(phone)s and we will find a time.",
)
TOO_FAR_AHEAD = Refusal(
    "too_far_ahead",
    "Online, appointments can be booked up to %(days)s days ahead (until %(latest)s). Pick an "
    "earlier date, or call us on %(phone)s.",
)
TOO_SHORT_NOTICE = Refusal(
    "too_short_notice",
    "Online, appointments are booked at least %(hours)s hours ahead. Pick a later time, or "
    "call us on %(phone)s.",
)
SAME_DAY_MISSING = Refusal(
    "same_day_missing",
    "Ask today's safety questions first (Same-day check): they are asked on the day, by the "
    "treating practitioner.",
)
SAME_DAY_WINDOW = Refusal(
    "same_day_window",
    "Treatment cannot go ahead today: the patient has had alcohol or blood thinners since "
    "%(stop)s. Offer %(earliest)s or later, and ask them to have none from today.",
)
SAME_DAY_PREGNANT = Refusal(
    "same_day_pregnant",
    "Pregnant or breastfeeding: do not treat. Offer a date after breastfeeding has ended.",
)
SAME_DAY_SITE = Refusal(
    "same_day_site",
    "An active cold sore, infection or inflammation at the lips: do not treat today. Offer a "
    "date once it has fully healed (usually 2 weeks or more).",
)
SAME_DAY_FLAGS = Refusal(
    "same_day_flags",
    "Today's answers to weigh before treating: %(reasons)s",
)
DOSE_LINE_CEILING = Refusal(
    "dose_line_ceiling",
    "%(amount)s %(unit)s in one injection is above the ceiling of %(ceiling)s %(unit)s for "
    "%(part)s. Check the amount: no reason unlocks this.",
    field="amount",
)
DOSE_SESSION_CEILING = Refusal(
    "dose_session_ceiling",
    "This would make %(total)s %(unit)s of %(agent)s this session, above the ceiling of "
    "%(ceiling)s %(unit)s for %(part)s. Check the amounts: no reason unlocks this.",
    field="amount",
)
DOSE_REASON_REQUIRED = Refusal(
    "reason_required",
    "A dose is above the maximum (%(details)s). Give the clinical reason before signing.",
    field="over_maximum_reason",
)
DOSE_ABOVE_MAXIMUM = Refusal(
    "dose_above_maximum",
    "Above the maximum (%(details)s): give the clinical reason before signing.",
)
DOSE_WARNING = Refusal("dose_warning", "%(details)s")
PRESCRIPTION_MISSING = Refusal(
    "prescription_missing",
    "%(product)s is a prescription-only medicine and %(patient)s has no prescription for it. "
    "An independent prescriber must assess them face to face and prescribe it (Patient chart > "
    "Prescriptions) before it is given.",
)
PRESCRIPTION_EXPIRED = Refusal(
    "prescription_expired",
    "%(patient)s's prescription for %(product)s (by %(prescriber)s) ran out on %(until)s. An "
    "independent prescriber must assess them face to face again and write a new one.",
)
PRESCRIPTION_WITHDRAWN = Refusal(
    "prescription_withdrawn",
    "%(patient)s's prescription for %(product)s (by %(prescriber)s) was withdrawn. Do not give "
    "it: an independent prescriber must assess them face to face and write a new one.",
)
PRESCRIPTION_EXCEEDED = Refusal(
    "prescription_exceeded",
    "This would make %(total)s %(unit)s of %(product)s this session, above the %(most)s "
    "%(unit)s the prescription by %(prescriber)s allows. Chart no more than that, or ask the "
    "prescriber to reassess the patient.",
    field="amount",
)
RED_FLAG_REPORTED = Refusal(
    "red_flag_reported",
    "Red flags reported: %(signs)s. The patient was told to call 999 now. Call them back at "
    "once and record what happened.",
)
KIT_NEVER_CHECKED = Refusal(
    "kit_never_checked",
    "Filler cannot start: the emergency kit has never been checked. Check it now (Clinic > "
    "Emergency kit): hyaluronidase and adrenaline present and in date. Then start again.",
)
KIT_CHECK_OVERDUE = Refusal(
    "kit_check_overdue",
    "Filler cannot start: the emergency kit was last checked on %(checked)s and was due again "
    "on %(due)s. Check it now (Clinic > Emergency kit), then start again.",
)
KIT_INCOMPLETE = Refusal(
    "kit_incomplete",
    "Filler cannot start: the last kit check (%(checked)s) found too few in date of: "
    "%(short)s. Restock the kit (Clinic > Emergency kit > Record a delivery) and check it "
    "again.",
)
KIT_NO_HYALURONIDASE = Refusal(
    "kit_no_hyaluronidase",
    "Filler cannot start: there is no in-date hyaluronidase in stock, and it is what dissolves "
    "filler in a blocked blood vessel. Record a delivery (Clinic > Emergency kit), then start "
    "again.",
)
REPORT_FOR_REVIEW = Refusal(
    "report_for_review",
    "No red flags reported: for the treating practitioner to review and answer.",
)


# What the engine reads. Plain values: services fill them from the database.


@dataclass(frozen=True)
class DoseLimits:
    """One agent's limits for one session, in Botox-equivalent units (toxin)
    or mL (filler): above `typical` a warning, above `maximum` a reason is
    required, and no reason unlocks a line or a session above the ceilings."""

    typical: Decimal
    maximum: Decimal
    line_ceiling: Decimal
    session_ceiling: Decimal


@dataclass(frozen=True)
class Part:
    """A single procedure, as the rules see it."""

    name: str
    agent: str
    min_days_between: int | None = None
    doses: DoseLimits | None = None


@dataclass(frozen=True)
class ProcedureFacts:
    name: str
    parts: tuple[Part, ...]
    precare_min_days: int
    precare_recommended_days: int

    @property
    def agents(self):
        return frozenset(part.agent for part in self.parts)


@dataclass(frozen=True)
class PastTreatment:
    day: date
    agents: frozenset[str]
    elsewhere: bool = False  # as the patient stated


@dataclass(frozen=True)
class OtherAppointment:
    day: date
    procedure: str
    agents: frozenset[str]


@dataclass(frozen=True)
class PatientFacts:
    name: str
    date_of_birth: date
    history: object | None = None  # the latest history's answers
    history_state: HistoryState = HistoryState.MISSING
    history_expires_on: date | None = None
    past: tuple[PastTreatment, ...] = ()
    booked: tuple[OtherAppointment, ...] = ()
    # {substance code: (minimum, recommended) days}, for the blood thinners
    # this patient takes that the clinic asks a longer window for.
    substance_windows: tuple[tuple[str, int, int], ...] = ()
    # (start, end) of every time the patient already occupies (appointments
    # and their own holds that have not lapsed), when the reader was given
    # `now`: the booking service checks the new time against these, so that
    # "is the patient free?" is no query of its own.
    occupied: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class SameDay:
    """Today's answers, asked by the treating practitioner."""

    on: date
    window_kept: bool
    pregnant_or_breastfeeding: bool = False
    active_cold_sore: bool = False
    infection_at_site: bool = False
    antibiotics_now: bool = False
    dental_work_recent: bool = False
    illness_or_vaccination_recent: bool = False
    toxin_elsewhere_on: date | None = None


@dataclass(frozen=True)
class Dose:
    """One charted (or proposed) injection."""

    product: str
    agent: str
    unit: str
    amount: Decimal
    lip: str | None  # "upper" / "lower" for filler
    # The amount in agent units: Botox-equivalent U for toxin, mL for filler.
    agent_amount: Decimal
    contains_cows_milk_protein: bool = False
    needs_prescription: bool = False


@dataclass(frozen=True)
class Prescribed:
    """A prescription for the patient, as the rules see it: from the local
    day it was written to `valid_until`, the most of each product that may
    be given in one session (in the product's own units)."""

    pk: int
    prescriber: str
    written_on: date
    valid_until: date
    most: tuple[tuple[str, Decimal], ...]  # (product, most per session)
    withdrawn: bool = False

    def covers(self, product):
        return any(name == product for name, _ in self.most)

    def most_of(self, product):
        return next(amount for name, amount in self.most if name == product)

    def valid_on(self, day):
        return not self.withdrawn and self.written_on <= day <= self.valid_until


@dataclass(frozen=True)
class Report:
    """A patient's report of a problem after a treatment: the codes of the
    red-flag questions (treatments.aftercare.RED_FLAG_QUESTIONS) answered yes."""

    yes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class KitState:
    """The emergency kit, as the rules see it: the local day of the last kit
    check (None: never checked), how often the clinic checks it, the items
    that check found short (too few present and in date), and how many
    in-date hyaluronidase items the stock holds today."""

    checked_on: date | None
    every_days: int
    short: tuple[str, ...] = ()
    hyaluronidase_in_date: int = 0

    @property
    def due_on(self):
        return None if self.checked_on is None else self.checked_on + timedelta(self.every_days)


@dataclass(frozen=True)
class Case:
    step: Step
    today: date
    day: date  # the treatment's local date
    procedure: ProcedureFacts
    patient: PatientFacts
    attested: bool = False  # staff recorded the patient's statement (short window)
    hours_left: float | None = None  # before the current appointment (patient changes)
    # Online booking: whether the procedure and practitioner are offered online,
    # and how many days ahead a patient may book.
    offered_online: bool = True
    not_offered: str = ""  # what is not offered, for the message
    days_ahead_limit: int | None = None
    # The least notice for a time booked or moved online, and how many hours
    # from now the proposed time starts.
    min_notice_hours: int | None = None
    hours_ahead: float | None = None
    notice_hours: int = 48
    phone: str = ""
    same_day: SameDay | None = None
    doses: tuple[Dose, ...] = ()  # already charted
    new_dose: Dose | None = None  # being charted (LINE_ADD)
    over_maximum_reason: bool = False
    rebook_date: date | None = None
    # The patient's prescriptions, and the procedure's prescription-only products.
    prescriptions: tuple[Prescribed, ...] = ()
    prescription_only: frozenset[str] = frozenset()
    report: Report | None = None  # PATIENT_REPORT: what the patient answered
    # The emergency kit, read for a filler treatment's start; None (not read)
    # refuses like a kit never checked: no filler starts on an unknown kit.
    kit: KitState | None = None


@dataclass(frozen=True)
class Finding:
    rule: Rule
    outcome: Outcome
    refusal: Refusal
    params: dict = field(default_factory=dict)
    earliest: date | None = None

    @property
    def code(self):
        return self.refusal.code

    @property
    def message(self):
        return self.refusal.text(**self.params)

    @property
    def field(self):
        return self.refusal.field


@dataclass(frozen=True)
class Assessment:
    case: Case
    findings: tuple[Finding, ...]
    precare: object | None = None  # treatments.safety.precare.Precare at booking steps

    @property
    def refusals(self):
        return [f for f in self.findings if f.outcome == Outcome.REFUSE]

    @property
    def flags(self):
        return [f for f in self.findings if f.outcome == Outcome.FLAG]

    @property
    def refused(self):
        return bool(self.refusals)

    @property
    def emergency(self):
        return any(f.outcome == Outcome.EMERGENCY for f in self.findings)

    @property
    def earliest(self):
        """The first date that clears every refusal that a date can clear."""
        dates = [f.earliest for f in self.refusals if f.earliest]
        return max(dates, default=None)

    def codes(self):
        return [f.code for f in self.findings]


def day_text(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def _plain(number):
    return f"{Decimal(number).normalize():f}"


# The rules. Each takes the case and returns its findings (none when clear).


def earliest_adult_day(date_of_birth: date) -> date:
    """The 18th birthday; for 29 February, 1 March in a common year (age_on)."""
    day = add_months(date_of_birth, MINIMUM_AGE * 12)
    return day if age_on(date_of_birth, day) >= MINIMUM_AGE else day + timedelta(days=1)


def age_rule(case):
    age = age_on(case.patient.date_of_birth, case.day)
    if age >= MINIMUM_AGE:
        return []
    earliest = earliest_adult_day(case.patient.date_of_birth)
    params = {
        "patient": case.patient.name,
        "age": age,
        "day": day_text(case.day),
        "earliest": day_text(earliest),
    }
    return [Finding(Rule.AGE, Outcome.REFUSE, UNDER_AGE, params, earliest)]


def _toxin_parts(case):
    return [p for p in case.procedure.parts if p.agent == Agent.TOXIN and p.min_days_between]


def _elsewhere(case):
    same_day = case.same_day
    if same_day and same_day.toxin_elsewhere_on:
        return (PastTreatment(same_day.toxin_elsewhere_on, frozenset({Agent.TOXIN}), True),)
    return ()


def toxin_gap_rule(case):
    findings = []
    for part in _toxin_parts(case):
        gap = part.min_days_between
        before = [
            t
            for t in (*case.patient.past, *_elsewhere(case))
            if Agent.TOXIN in t.agents and t.day <= case.day
        ]
        last = max(before, key=lambda t: t.day, default=None)
        if last and (case.day - last.day).days < gap:
            earliest = last.day + timedelta(days=gap)
            params = {
                "part": part.name,
                "gap": gap,
                "last": day_text(last.day),
                "where": "at another clinic, as the patient told us" if last.elsewhere else "here",
                "earliest": day_text(earliest),
            }
            findings.append(
                Finding(Rule.TOXIN_GAP, Outcome.REFUSE, TOXIN_TOO_SOON, params, earliest)
            )
        if case.step not in BOOKING_STEPS:
            continue
        for other in case.patient.booked:
            if Agent.TOXIN in other.agents and abs((case.day - other.day).days) < gap:
                earliest = other.day + timedelta(days=gap)
                params = {
                    "patient": case.patient.name,
                    "other": other.procedure,
                    "other_day": day_text(other.day),
                    "gap": gap,
                    "earliest": day_text(earliest),
                }
                # A flag, not a refusal: one of the two is often being replaced;
                # whichever is treated second is refused on the day.
                findings.append(
                    Finding(Rule.TOXIN_GAP, Outcome.FLAG, TOXIN_BOOKED_NEARBY, params, earliest)
                )
    return findings


def rebook_gap_rule(case):
    if case.rebook_date is None:
        return []
    findings = []
    for part in _toxin_parts(case):
        earliest = case.day + timedelta(days=part.min_days_between)
        if case.rebook_date < earliest:
            params = {
                "part": part.name,
                "gap": part.min_days_between,
                "earliest": day_text(earliest),
            }
            findings.append(
                Finding(Rule.REBOOK_GAP, Outcome.REFUSE, REBOOK_TOO_SOON, params, earliest)
            )
    return findings


HISTORY_WORDS = {"missing": "missing", "stale": "out of date", "incomplete": "incomplete"}
HISTORY_GAPS = {
    "missing": HISTORY_MISSING,
    "stale": HISTORY_STALE,
    "incomplete": HISTORY_INCOMPLETE,
}


def history_rule(case):
    state = case.patient.history_state
    refusal = HISTORY_GAPS.get(state)
    if refusal is None:
        return []
    expires = case.patient.history_expires_on
    params = {
        "patient": case.patient.name,
        "expired": day_text(expires) if expires else "",
        "state": HISTORY_WORDS.get(state, state),
    }
    if case.step == Step.TREATMENT_START:
        return [Finding(Rule.HISTORY, Outcome.REFUSE, refusal, params)]
    return [Finding(Rule.HISTORY, Outcome.FLAG, HISTORY_NEEDED, params)]


def screening_rule(case):
    history = case.patient.history
    findings = []
    if history is not None:
        screening = screen(
            answers=history,
            agents=case.procedure.agents,
            on=case.day,
            date_of_birth=case.patient.date_of_birth,
        )
        # Age is its own rule (it never waits for a history).
        reasons = [r for r in screening.reasons if r.code != "under_18"]
        ruled_out = [r.detail for r in reasons if r.outcome == Screened.CONTRAINDICATED]
        cautions = [r.detail for r in reasons if r.outcome == Screened.CAUTION]
        # The front desk and the patient read the outcome, not the clinical why.
        clinical = case.step in CLINICAL_STEPS
        if ruled_out:
            params = {
                "patient": case.patient.name,
                "procedure": case.procedure.name,
                "day": day_text(case.day),
            }
            if clinical:
                params["reasons"] = " ".join(ruled_out)
            refusal = RULED_OUT if clinical else CONTRAINDICATED
            findings.append(Finding(Rule.SCREENING, Outcome.REFUSE, refusal, params))
        if cautions:
            params = {"reasons": " ".join(cautions)} if clinical else {}
            flag = CAUTION if clinical else REVIEW
            findings.append(Finding(Rule.SCREENING, Outcome.FLAG, flag, params))
        dose = case.new_dose
        if (
            dose is not None
            and dose.contains_cows_milk_protein
            and getattr(history, "allergy_cows_milk_protein", False)
        ):
            findings.append(
                Finding(
                    Rule.SCREENING,
                    Outcome.REFUSE,
                    PRODUCT_CONTRAINDICATED,
                    {"product": dose.product},
                )
            )
    return findings


def window_days_for(minimum, recommended, substance_windows):
    """A procedure's (minimum, recommended) window, lengthened for any blood
    thinner the patient takes that the clinic asks a longer window for (e.g.
    7 days for NSAIDs): [(substance, minimum, recommended)]."""
    for _, substance_min, substance_recommended in substance_windows:
        minimum = max(minimum, substance_min)
        recommended = max(recommended, substance_recommended, minimum)
    return minimum, recommended


def window_days(case):
    """(minimum, recommended) days for this patient and procedure."""
    return window_days_for(
        case.procedure.precare_min_days,
        case.procedure.precare_recommended_days,
        case.patient.substance_windows,
    )


def precare_for(case):
    minimum, recommended = window_days(case)
    return precare_check(
        appointment_date=case.day,
        booking_date=case.today,
        min_days=minimum,
        recommended_days=recommended,
    )


def precare_rule(case):
    precare = precare_for(case)
    minimum, _ = window_days(case)
    params = {
        "procedure": case.procedure.name,
        "min_days": minimum,
        "earliest": day_text(precare.earliest_date),
        "stop": day_text(precare.stop_date),
    }
    if precare.verdict == Window.TOO_LATE:
        if case.attested and case.step not in PATIENT_STEPS:
            return [Finding(Rule.PRECARE, Outcome.FLAG, PRECARE_ATTESTED, params)]
        return [
            Finding(Rule.PRECARE, Outcome.REFUSE, PRECARE_TOO_LATE, params, precare.earliest_date)
        ]
    if precare.verdict == Window.SHORT:
        return [Finding(Rule.PRECARE, Outcome.FLAG, PRECARE_SHORT, params)]
    return []


def online_policy_rule(case):
    findings = []
    if case.hours_left is not None and case.hours_left < case.notice_hours:
        params = {"hours": case.notice_hours, "phone": case.phone}
        findings.append(Finding(Rule.ONLINE_POLICY, Outcome.REFUSE, TOO_LATE_TO_CHANGE, params))
    if case.step == Step.PATIENT_BOOK and not case.offered_online:
        params = {"what": case.not_offered or case.procedure.name, "phone": case.phone}
        findings.append(Finding(Rule.ONLINE_POLICY, Outcome.REFUSE, NOT_BOOKABLE_ONLINE, params))
    notice = case.min_notice_hours
    if (
        case.step in (Step.PATIENT_BOOK, Step.PATIENT_MOVE)
        and notice
        and case.hours_ahead is not None
        and case.hours_ahead < notice
    ):
        params = {"hours": notice, "phone": case.phone}
        findings.append(Finding(Rule.ONLINE_POLICY, Outcome.REFUSE, TOO_SHORT_NOTICE, params))
    limit = case.days_ahead_limit
    if case.step in (Step.PATIENT_BOOK, Step.PATIENT_MOVE) and limit is not None:
        latest = case.today + timedelta(days=limit)
        if case.day > latest:
            params = {"days": limit, "latest": day_text(latest), "phone": case.phone}
            findings.append(Finding(Rule.ONLINE_POLICY, Outcome.REFUSE, TOO_FAR_AHEAD, params))
    if case.step in (Step.PATIENT_BOOK, Step.PATIENT_MOVE):
        precare = precare_for(case)
        if precare.verdict != Window.OK:
            _, recommended = window_days(case)
            params = {
                "recommended_days": recommended,
                "earliest": day_text(precare.recommended_date),
                "phone": case.phone,
            }
            findings.append(
                Finding(
                    Rule.ONLINE_POLICY,
                    Outcome.REFUSE,
                    PATIENT_WINDOW,
                    params,
                    precare.recommended_date,
                )
            )
    return findings


def same_day_rule(case):
    answers = case.same_day
    if answers is None or answers.on != case.today:
        return [Finding(Rule.SAME_DAY, Outcome.REFUSE, SAME_DAY_MISSING)]
    findings = []
    agents = case.procedure.agents
    if not answers.window_kept:
        minimum, _ = window_days(case)
        earliest = case.today + timedelta(days=minimum)
        params = {
            "stop": day_text(case.day - timedelta(days=minimum)),
            "earliest": day_text(earliest),
        }
        findings.append(Finding(Rule.SAME_DAY, Outcome.REFUSE, SAME_DAY_WINDOW, params, earliest))
    if answers.pregnant_or_breastfeeding:
        findings.append(Finding(Rule.SAME_DAY, Outcome.REFUSE, SAME_DAY_PREGNANT))
    if answers.active_cold_sore or answers.infection_at_site:
        findings.append(Finding(Rule.SAME_DAY, Outcome.REFUSE, SAME_DAY_SITE))
    notes = []
    if answers.antibiotics_now:
        notes.append(
            "on antibiotics now: ask which (an aminoglycoside strengthens toxin) and why "
            "(an infection near the lips means waiting)."
        )
    if answers.dental_work_recent and Agent.FILLER in agents:
        notes.append("dental work in the last 2 weeks: filler that close raises infection risk.")
    if answers.illness_or_vaccination_recent:
        notes.append(
            "an illness or a vaccination in the last 2 weeks: consider waiting until 2 weeks "
            "after it."
        )
    if notes:
        findings.append(
            Finding(Rule.SAME_DAY, Outcome.FLAG, SAME_DAY_FLAGS, {"reasons": " ".join(notes)})
        )
    return findings


def _totals(doses):
    per_agent, per_lip = {}, {}
    for dose in doses:
        per_agent[dose.agent] = per_agent.get(dose.agent, Decimal(0)) + dose.agent_amount
        if dose.agent == Agent.FILLER and dose.lip:
            per_lip[dose.lip] = per_lip.get(dose.lip, Decimal(0)) + dose.agent_amount
    return per_agent, per_lip


AGENT_UNITS = {Agent.TOXIN: "Botox-equivalent units", Agent.FILLER: "mL"}
AGENT_NAMES = {Agent.TOXIN: "toxin", Agent.FILLER: "filler"}


def doses_rule(case):
    findings = []
    doses = (*case.doses, *([case.new_dose] if case.new_dose else []))
    per_agent, per_lip = _totals(doses)
    parts = {part.agent: part for part in case.procedure.parts if part.doses}
    new = case.new_dose
    if new is not None and new.agent in parts:
        part = parts[new.agent]
        if new.agent_amount > part.doses.line_ceiling:
            params = {
                "amount": _plain(new.agent_amount),
                "unit": AGENT_UNITS[new.agent],
                "ceiling": _plain(part.doses.line_ceiling),
                "part": part.name,
            }
            findings.append(Finding(Rule.DOSES, Outcome.REFUSE, DOSE_LINE_CEILING, params))
    above_maximum, warnings = [], []
    for agent, total in per_agent.items():
        part = parts.get(agent)
        if part is None:
            continue
        unit = AGENT_UNITS[agent]
        limits = part.doses
        if total > limits.session_ceiling:
            params = {
                "total": _plain(total),
                "unit": unit,
                "agent": AGENT_NAMES[agent],
                "ceiling": _plain(limits.session_ceiling),
                "part": part.name,
            }
            findings.append(Finding(Rule.DOSES, Outcome.REFUSE, DOSE_SESSION_CEILING, params))
        elif total > limits.maximum:
            above_maximum.append(
                f"{_plain(total)} {unit} of {AGENT_NAMES[agent]} this session, maximum "
                f"{_plain(limits.maximum)}"
            )
        elif total > limits.typical:
            warnings.append(
                f"{_plain(total)} {unit} of {AGENT_NAMES[agent]} this session is above the "
                f"typical {_plain(limits.typical)}."
            )
    for lip, amount in per_lip.items():
        if amount > FILLER_PER_LIP_WARNING:
            warnings.append(
                f"{_plain(amount)} mL of filler in the {lip} lip: above "
                f"{_plain(FILLER_PER_LIP_WARNING)} mL per lip per session reactions are more "
                "likely; consider splitting the treatment."
            )
    if above_maximum:
        details = "; ".join(above_maximum)
        if case.step == Step.SIGN and not case.over_maximum_reason:
            findings.append(
                Finding(Rule.DOSES, Outcome.REFUSE, DOSE_REASON_REQUIRED, {"details": details})
            )
        else:
            findings.append(
                Finding(Rule.DOSES, Outcome.FLAG, DOSE_ABOVE_MAXIMUM, {"details": details})
            )
    if warnings:
        findings.append(
            Finding(Rule.DOSES, Outcome.FLAG, DOSE_WARNING, {"details": " ".join(warnings)})
        )
    return findings


def _prescribed_doses(case):
    doses = (*case.doses, *([case.new_dose] if case.new_dose else ()))
    return [dose for dose in doses if dose.needs_prescription]


def relied_on(case) -> Prescribed | None:
    """The prescription the treatment relies on: the newest valid on the day
    that covers every prescription-only product charted (at the start, before
    anything is charted: any of the procedure's)."""
    needed = {dose.product for dose in _prescribed_doses(case)}
    valid = [p for p in case.prescriptions if p.valid_on(case.day)]
    if needed:
        valid = [p for p in valid if all(p.covers(product) for product in needed)]
    else:
        valid = [p for p in valid if any(p.covers(name) for name in case.prescription_only)]
    return max(valid, key=lambda p: (p.written_on, p.pk), default=None)


def _why_not_prescribed(case, product):
    """The finding for `product` with no valid prescription: withdrawn,
    expired or never written."""
    params = {"patient": case.patient.name, "product": product}
    earlier = [p for p in case.prescriptions if p.covers(product) and p.written_on <= case.day]
    last = max(earlier, key=lambda p: (p.written_on, p.pk), default=None)
    if last is not None:
        params.update(prescriber=last.prescriber, until=day_text(last.valid_until))
        refusal = PRESCRIPTION_WITHDRAWN if last.withdrawn else PRESCRIPTION_EXPIRED
        if last.valid_on(case.day):  # valid, but not together with the other products
            refusal = PRESCRIPTION_MISSING
        return Finding(Rule.PRESCRIPTION, Outcome.REFUSE, refusal, params)
    return Finding(Rule.PRESCRIPTION, Outcome.REFUSE, PRESCRIPTION_MISSING, params)


def prescription_rule(case):
    """A prescription-only medicine (toxin in the UK) is given only under a
    valid prescription for this patient and product, written after a face-to-
    face assessment, and never above the most it allows per session."""
    doses = _prescribed_doses(case)
    if not doses and not (case.step == Step.TREATMENT_START and case.prescription_only):
        return []
    prescription = relied_on(case)
    if prescription is None:
        products = [dose.product for dose in doses] or sorted(case.prescription_only)
        uncovered = [
            product
            for product in products
            if not any(p.covers(product) and p.valid_on(case.day) for p in case.prescriptions)
        ]
        # Explain by a product that had a prescription (expired, withdrawn) if any.
        uncovered.sort(key=lambda name: not any(p.covers(name) for p in case.prescriptions))
        return [_why_not_prescribed(case, (uncovered or products)[0])]
    totals, units = {}, {}
    for dose in doses:
        totals[dose.product] = totals.get(dose.product, Decimal(0)) + dose.amount
        units[dose.product] = dose.unit
    findings = []
    for product, total in totals.items():
        most = prescription.most_of(product)
        if total > most:
            params = {
                "total": _plain(total),
                "unit": units[product],
                "product": product,
                "most": _plain(most),
                "prescriber": prescription.prescriber,
            }
            findings.append(
                Finding(Rule.PRESCRIPTION, Outcome.REFUSE, PRESCRIPTION_EXCEEDED, params)
            )
    return findings


def red_flags_rule(case):
    """A patient's report: any red flag answered yes is an emergency, whatever
    was injected and however long ago (the patient is told to call 999 first;
    the treating practitioner and the clinic are alerted at once). Anything
    else goes to the practitioner's review list."""
    yes = case.report.yes if case.report else frozenset()
    signs = [q.sign for q in RED_FLAG_QUESTIONS if q.code in yes]
    if signs:
        params = {"signs": "; ".join(signs)}
        return [Finding(Rule.RED_FLAGS, Outcome.EMERGENCY, RED_FLAG_REPORTED, params)]
    return [Finding(Rule.RED_FLAGS, Outcome.FLAG, REPORT_FOR_REVIEW)]


def kit_findings(kit: KitState | None, today: date) -> list[Finding]:
    """What stops a filler treatment starting `today` with this kit: never
    checked (or not read), the check overdue (due `every_days` after the last,
    refused the day after), items short at the last check, no in-date
    hyaluronidase in stock. The kit page shows the same findings."""
    if kit is None or kit.checked_on is None:
        return [Finding(Rule.EMERGENCY_KIT, Outcome.REFUSE, KIT_NEVER_CHECKED)]
    findings = []
    checked = {"checked": day_text(kit.checked_on)}
    if today > kit.due_on:
        params = {**checked, "due": day_text(kit.due_on)}
        findings.append(Finding(Rule.EMERGENCY_KIT, Outcome.REFUSE, KIT_CHECK_OVERDUE, params))
    elif kit.short:
        params = {**checked, "short": ", ".join(kit.short)}
        findings.append(Finding(Rule.EMERGENCY_KIT, Outcome.REFUSE, KIT_INCOMPLETE, params))
    if kit.hyaluronidase_in_date <= 0:
        findings.append(Finding(Rule.EMERGENCY_KIT, Outcome.REFUSE, KIT_NO_HYALURONIDASE))
    return findings


def emergency_kit_rule(case):
    """Filler can block a blood vessel, and hyaluronidase dissolves it: a
    filler treatment starts only with the emergency kit ready."""
    if Agent.FILLER not in case.procedure.agents:
        return []
    return kit_findings(case.kit, case.today)


S = Step
# The matrix: each rule and the steps it is checked at.
APPLIES: dict[Rule, tuple[Callable, frozenset[Step]]] = {
    Rule.AGE: (age_rule, BOOKING_STEPS | {S.CHECK_IN, S.TREATMENT_START, S.SIGN}),
    Rule.TOXIN_GAP: (toxin_gap_rule, BOOKING_STEPS | {S.CHECK_IN, S.TREATMENT_START, S.SIGN}),
    Rule.HISTORY: (history_rule, BOOKING_STEPS | {S.CHECK_IN, S.TREATMENT_START}),
    Rule.SCREENING: (
        screening_rule,
        BOOKING_STEPS | {S.CHECK_IN, S.TREATMENT_START, S.LINE_ADD, S.SIGN},
    ),
    Rule.PRECARE: (precare_rule, BOOKING_STEPS),
    Rule.ONLINE_POLICY: (online_policy_rule, PATIENT_STEPS),
    Rule.SAME_DAY: (same_day_rule, frozenset({S.TREATMENT_START})),
    Rule.DOSES: (doses_rule, frozenset({S.LINE_ADD, S.SIGN})),
    Rule.REBOOK_GAP: (rebook_gap_rule, frozenset({S.FOLLOW_UP, S.SIGN})),
    Rule.PRESCRIPTION: (
        prescription_rule,
        frozenset({S.TREATMENT_START, S.LINE_ADD, S.SIGN}),
    ),
    Rule.RED_FLAGS: (red_flags_rule, frozenset({S.PATIENT_REPORT})),
    Rule.EMERGENCY_KIT: (emergency_kit_rule, frozenset({S.TREATMENT_START})),
}


def evaluate(case: Case) -> Assessment:
    """Every verdict for `case`, emergencies and refusals first, in the
    matrix's rule order."""
    findings = []
    for check, steps in APPLIES.values():
        if case.step in steps:
            findings.extend(check(case))
    order = {Outcome.EMERGENCY: 0, Outcome.REFUSE: 1, Outcome.FLAG: 2, Outcome.CLEAR: 3}
    findings.sort(key=lambda f: order[f.outcome])
    precare = precare_for(case) if case.step in BOOKING_STEPS else None
    return Assessment(case, tuple(findings), precare)


def toxin_possible_from(patient: PatientFacts, part: Part) -> date | None:
    """The first day `part` (a toxin procedure) may be given again: the last
    toxin treatment, here or stated elsewhere, plus the part's minimum gap.
    None when there is no earlier toxin or no gap."""
    if part.agent != Agent.TOXIN or not part.min_days_between:
        return None
    last = max((t.day for t in patient.past if Agent.TOXIN in t.agents), default=None)
    return last + timedelta(days=part.min_days_between) if last else None
