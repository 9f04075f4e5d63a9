"""Pure treatment rules: contraindication screening, dose totals and limits,
follow-up dates. No database, no clock: the date is an argument.

Screening is table-driven from ../shared/DOMAIN.md. This module is the one
place the contraindication rule lives; services and pages call `screen()`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
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
    return lambda facts: bool(getattr(facts.answers, field_name, None))


def _any_yes(*field_names):
    return lambda facts: any(getattr(facts.answers, name, None) for name in field_names)


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
    Row("active_cold_sore", BOTH, NO, _yes("active_cold_sore"),
        "Active cold sore on or near the lips: defer until it has fully healed."),
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
        "Cow's milk protein allergy: Dysport and Azzalure must not be used; use Botox, "
        "Vistabel or Bocouture."),
    Row("toxin_albumin", T, NO, _yes("allergy_human_albumin"),
        "Allergy to human albumin: every botulinum toxin product contains it; do not inject "
        "toxin."),
    Row("autoimmune", BOTH, CAUTION, _yes("autoimmune_disease"),
        "Autoimmune disease: higher risk of delayed reactions; check it is stable and not "
        "flaring."),
    # Hyaluronic acid filler (Juvederm, Restylane)
    Row("filler_anaphylaxis", F, NO, _any_yes("anaphylaxis_history", "multiple_severe_allergies"),
        "History of anaphylaxis or several severe allergies: do not inject filler."),
    Row("filler_gram_positive", F, NO, _yes("allergy_gram_positive_bacteria"),
        "Allergy to gram-positive bacterial proteins: do not inject HA filler."),
    Row("filler_lidocaine", F, NO, _yes("allergy_lidocaine"),
        "Allergy to lidocaine or amide anaesthetics: our fillers contain lidocaine."),
    Row("filler_previous_reaction", F, NO, _yes("reaction_to_ha_filler"),
        "Previous bad reaction to hyaluronic-acid filler: do not inject HA filler."),
    Row("filler_hyaluronidase_allergy", F, CAUTION, _yes("allergy_hyaluronidase_or_bee_venom"),
        "Allergy to hyaluronidase or bee venom: the enzyme that dissolves filler in an "
        "emergency may not be safe to use; weigh that before injecting."),
    Row("filler_keloid", F, CAUTION, _yes("keloid_scarring"),
        "Keloid or raised scarring: needle marks can scar; discuss the risk."),
    Row("filler_permanent", F, CAUTION, _yes("permanent_lip_filler_or_implant"),
        "Permanent filler or an implant in the lips: HA filler over it raises the risk of "
        "nodules and infection; assess before injecting."),
    Row("filler_vascular_history", F, CAUTION, _yes("previous_vascular_complication"),
        "A blocked blood vessel after filler before: inject slowly, low pressure, small "
        "amounts, with hyaluronidase at hand."),
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


# Doses


@dataclass(frozen=True)
class DoseLimit:
    typical: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class ProductTotal:
    product: object
    amount: Decimal
    unit: str
    botox_equivalent: Decimal | None  # toxins only
    limit: DoseLimit | None

    @property
    def above_typical(self):
        return self.limit is not None and self.amount > self.limit.typical

    @property
    def above_maximum(self):
        return self.limit is not None and self.amount > self.limit.maximum


FILLER_PER_LIP_WARNING = Decimal("1.5")


def plain(number):
    """A decimal without trailing zeros: 7.00 -> '7', 1.50 -> '1.5'."""
    return f"{Decimal(number).normalize():f}"  # mL per lip per session (Restylane label)


@dataclass(frozen=True)
class DoseSummary:
    totals: tuple
    filler_per_lip: dict  # {"upper": mL, "lower": mL}

    @property
    def needs_reason(self):
        return any(total.above_maximum for total in self.totals)

    @property
    def warnings(self):
        notes = []
        for total in self.totals:
            if total.above_maximum:
                notes.append(
                    f"{total.product}: {plain(total.amount)} {total.unit} is above the maximum "
                    f"of {plain(total.limit.maximum)} {total.unit}; give a reason before signing."
                )
            elif total.above_typical:
                notes.append(
                    f"{total.product}: {plain(total.amount)} {total.unit} is above the typical "
                    f"{plain(total.limit.typical)} {total.unit}."
                )
        for lip, amount in self.filler_per_lip.items():
            if amount > FILLER_PER_LIP_WARNING:
                notes.append(
                    f"{plain(amount)} mL of filler in the {lip} lip: above "
                    f"{plain(FILLER_PER_LIP_WARNING)} mL per lip per session, reactions are more "
                    "likely; consider splitting the treatment."
                )
        return notes


def dose_summary(lines, limits):
    """Totals per product, with their Botox equivalent and limits.

    lines: iterable of (product, lip, amount); a product needs `agent`, `unit`
    and `botox_equivalent(amount)`. limits: {product: DoseLimit}."""
    amounts, per_lip, order = {}, {"upper": Decimal(0), "lower": Decimal(0)}, []
    for product, lip, amount in lines:
        if product not in amounts:
            order.append(product)
            amounts[product] = Decimal(0)
        amounts[product] += Decimal(amount)
        if product.agent == Agent.FILLER:
            per_lip[lip] += Decimal(amount)
    totals = tuple(
        ProductTotal(
            product=product,
            amount=amounts[product],
            unit=product.unit,
            botox_equivalent=product.botox_equivalent(amounts[product]),
            limit=limits.get(product),
        )
        for product in order
    )
    return DoseSummary(totals, {lip: ml for lip, ml in per_lip.items() if ml})


# Follow-up


@dataclass(frozen=True)
class FollowUpRule:
    """One single procedure's follow-up intervals, in days."""

    review_after: int | None
    rebook_from: int | None
    rebook_by: int | None
    min_days_between: int | None


@dataclass(frozen=True)
class FollowUp:
    review_date: date | None
    rebook_date: date | None
    rebook_by: date | None


def follow_up(*, treated_on: date, rules) -> FollowUp:
    """The review and rebook dates after a treatment on `treated_on`.

    Each part is rebooked at its usual interval, but never sooner than its
    minimum gap (toxin: at least 90 days between treatments, per the Botox
    label, so "10-12 weeks" becomes 90 days). A combined treatment is reviewed
    and rebooked at its earliest part."""
    reviews, rebooks, deadlines = [], [], []
    for rule in rules:
        if rule.review_after:
            reviews.append(treated_on + timedelta(days=rule.review_after))
        if rule.rebook_from or rule.min_days_between:
            gap = max(rule.rebook_from or 0, rule.min_days_between or 0)
            rebooks.append(treated_on + timedelta(days=gap))
        if rule.rebook_by:
            deadlines.append(
                treated_on + timedelta(days=max(rule.rebook_by, rule.min_days_between or 0))
            )
    return FollowUp(
        review_date=min(reviews, default=None),
        rebook_date=min(rebooks, default=None),
        rebook_by=min(deadlines, default=None),
    )


# After a complication, the practitioner checks in with the patient this many
# hours after the record was opened, by kind (a vascular occlusion at 1 h,
# the next day, the day after and a week on). The patient gets the red-flag
# questions and the link to report a problem at each.
CHECK_IN_HOURS = {
    "vascular_occlusion": (1, 24, 48, 168),
    "anaphylaxis": (1, 24),
    "infection": (24, 48, 168),
    "nodules": (168, 336),
    "toxin_spread": (48, 168, 336),
    "bruising_swelling": (48, 168),
    "other": (24, 168),
}
