"""Pure treatment rules: contraindication screening, and (later) doses and
follow-up dates. No database, no clock: the date is an argument.

Screening is table-driven from ../shared/DOMAIN.md. This module is the one
place the contraindication rule lives; services and pages call `screen()`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.db.models import TextChoices

from clinic.rules import age_on

DENTAL_WORK_MARGIN_DAYS = 14
MINIMUM_AGE = 18
FILLER_LABEL_AGE = 22


class Agent(TextChoices):
    TOXIN = "toxin", "Neurotoxin (lip flip)"
    FILLER = "filler", "Hyaluronic acid filler"


class Outcome(StrEnum):
    # Ordered from least to most serious; the worst row decides.
    CLEAR = "clear"
    CAUTION = "caution"
    CONTRAINDICATED = "contraindicated"

    @property
    def rank(self):
        return list(Outcome).index(self)


@dataclass(frozen=True)
class Facts:
    """What screening looks at: the history's answers plus the patient's age
    and the gap to any dental work, both counted on the treatment date."""

    answers: object
    age: int
    days_from_dental_work: int | None


@dataclass(frozen=True)
class Row:
    code: str
    agents: frozenset[Agent]  # the row applies to procedures using any of these
    outcome: Outcome
    applies: Callable[[Facts], bool]
    detail: str  # for practitioners: what was found and what to do


def _yes(field_name):
    return lambda facts: bool(getattr(facts.answers, field_name))


def _any_yes(*field_names):
    return lambda facts: any(getattr(facts.answers, name) for name in field_names)


def _on_anticoagulants(facts):
    return bool(facts.answers.prescribed_anticoagulants)


def _dental_work_near(facts):
    gap = facts.days_from_dental_work
    return gap is not None and abs(gap) < DENTAL_WORK_MARGIN_DAYS


T, F = frozenset({Agent.TOXIN}), frozenset({Agent.FILLER})
BOTH = T | F
NO, CAUTION = Outcome.CONTRAINDICATED, Outcome.CAUTION

# fmt: off
TABLE = [
    # Both agents
    Row("site_infection", BOTH, NO, _yes("infection_at_site"),
        "Infection or inflammation at the injection site: defer until it has cleared."),
    Row("pregnancy", BOTH, NO, _yes("pregnant_or_breastfeeding"),
        "Pregnant or breastfeeding: safety not established; defer until after breastfeeding."),
    Row("under_18", BOTH, NO, lambda f: f.age < MINIMUM_AGE,
        "Under 18 on the treatment date: cosmetic injections are for adults only."),
    Row("anticoagulants", BOTH, CAUTION, _on_anticoagulants,
        "On a prescribed blood thinner: never ask the patient to stop it; "
        "review the bruising and haematoma risk."),
    # Neurotoxin (Botox, Dysport)
    Row("toxin_allergy", T, NO, _yes("allergy_botulinum_toxin"),
        "Previous reaction to a botulinum toxin: do not inject toxin."),
    Row("toxin_neuromuscular", T, CAUTION, _yes("neuromuscular_disease"),
        "Neuromuscular disease: toxin can worsen weakness; refer or get specialist advice."),
    Row("toxin_aminoglycosides", T, CAUTION, _yes("aminoglycoside_antibiotics"),
        "Taking an aminoglycoside antibiotic: it strengthens the toxin's effect; "
        "consider deferring until the course ends."),
    Row("toxin_cows_milk", T, CAUTION, _yes("allergy_cows_milk_protein"),
        "Cow's milk protein allergy: Dysport must not be used; use Botox."),
    # Hyaluronic acid filler (Juvederm, Restylane)
    Row("filler_anaphylaxis", F, NO, _any_yes("anaphylaxis_history", "multiple_severe_allergies"),
        "History of anaphylaxis or several severe allergies: do not inject filler."),
    Row("filler_gram_positive", F, NO, _yes("allergy_gram_positive_bacteria"),
        "Allergy to gram-positive bacterial proteins: do not inject HA filler."),
    Row("filler_lidocaine", F, NO, _yes("allergy_lidocaine"),
        "Allergy to lidocaine or amide anaesthetics: our fillers contain lidocaine."),
    Row("filler_active_cold_sore", F, NO, _yes("active_cold_sore"),
        "Active cold sore: defer filler until it has fully healed."),
    Row("filler_under_22", F, CAUTION, lambda f: MINIMUM_AGE <= f.age < FILLER_LABEL_AGE,
        "Aged 18-21: some lip-filler labels are approved from 22 only."),
    Row("filler_bleeding", F, CAUTION, _yes("bleeding_disorder"),
        "Bleeding or clotting disorder: higher risk of bruising and haematoma."),
    Row("filler_immunosuppressed", F, CAUTION, _yes("immunosuppressed"),
        "Immunosuppressed: higher risk of infection and delayed reactions."),
    Row("filler_cold_sores", F, CAUTION, _yes("cold_sores"),
        "History of cold sores: filler can reactivate them; consider antiviral cover."),
    Row("filler_dental_work", F, CAUTION, _dental_work_near,
        f"Dental treatment within {DENTAL_WORK_MARGIN_DAYS} days of the appointment: "
        "avoid filler that close to dental work."),
]
# fmt: on


@dataclass(frozen=True)
class Reason:
    code: str
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class Screening:
    outcome: Outcome
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def is_contraindicated(self):
        return self.outcome == Outcome.CONTRAINDICATED

    @property
    def codes(self):
        return [reason.code for reason in self.reasons]

    def staff_summary(self):
        """What front-desk staff may read: the outcome, not the clinical why."""
        return {
            Outcome.CLEAR: "Clear to book",
            Outcome.CAUTION: "Bookable: a practitioner will review before treatment",
            Outcome.CONTRAINDICATED: "Not bookable for this procedure: a practitioner must review",
        }[self.outcome]


def screen(*, answers, agents, on: date, date_of_birth: date) -> Screening:
    """Screen a medical history for a procedure given by its agents, on the
    treatment date `on`. `answers` is any object with the questionnaire's
    attributes (a MedicalHistory, or a stand-in in tests)."""
    dental = getattr(answers, "dental_work_date", None)
    facts = Facts(
        answers=answers,
        age=age_on(date_of_birth, on),
        days_from_dental_work=(on - dental).days if dental else None,
    )
    reasons = tuple(
        Reason(row.code, row.outcome, row.detail)
        for row in TABLE
        if row.agents & agents and row.applies(facts)
    )
    outcome = max((r.outcome for r in reasons), key=lambda o: o.rank, default=Outcome.CLEAR)
    return Screening(outcome, reasons)
