"""Every row of the contraindication tables in DOMAIN.md, for each procedure."""

from datetime import date
from types import SimpleNamespace

import pytest

from clinic.medical import YES_NO_FIELDS
from treatments.rules import Agent, Outcome, screen

TREATMENT_DAY = date(2026, 12, 10)
ADULT = date(1990, 5, 17)
TOXIN = frozenset({Agent.TOXIN})
FILLER = frozenset({Agent.FILLER})
COMBINED = TOXIN | FILLER
CONTRA, CAUTION, CLEAR = Outcome.CONTRAINDICATED, Outcome.CAUTION, Outcome.CLEAR


def answers(**changes):
    base = dict.fromkeys(YES_NO_FIELDS, False)
    base.update(prescribed_anticoagulants=[], otc_blood_thinners=[], dental_work_date=None)
    base.update(changes)
    return SimpleNamespace(**base)


def run(agents, born=ADULT, **changes):
    return screen(answers=answers(**changes), agents=agents, on=TREATMENT_DAY, date_of_birth=born)


# (answers, code, outcome for lip flip, outcome for lip filler); None: not a finding.
ROWS = [
    ({"infection_at_site": True}, "site_infection", CONTRA, CONTRA),
    ({"pregnant_or_breastfeeding": True}, "pregnancy", CONTRA, CONTRA),
    ({"prescribed_anticoagulants": ["warfarin"]}, "anticoagulants", CAUTION, CAUTION),
    ({"allergy_botulinum_toxin": True}, "toxin_allergy", CONTRA, None),
    ({"neuromuscular_disease": True}, "toxin_neuromuscular", CAUTION, None),
    ({"aminoglycoside_antibiotics": True}, "toxin_aminoglycosides", CAUTION, None),
    ({"allergy_cows_milk_protein": True}, "toxin_cows_milk", CAUTION, None),
    ({"anaphylaxis_history": True}, "filler_anaphylaxis", None, CONTRA),
    ({"multiple_severe_allergies": True}, "filler_anaphylaxis", None, CONTRA),
    ({"allergy_gram_positive_bacteria": True}, "filler_gram_positive", None, CONTRA),
    ({"allergy_lidocaine": True}, "filler_lidocaine", None, CONTRA),
    ({"active_cold_sore": True}, "active_cold_sore", CONTRA, CONTRA),
    ({"allergy_human_albumin": True}, "toxin_albumin", CONTRA, None),
    ({"autoimmune_disease": True}, "autoimmune", CAUTION, CAUTION),
    ({"reaction_to_ha_filler": True}, "filler_previous_reaction", None, CONTRA),
    (
        {"allergy_hyaluronidase_or_bee_venom": True},
        "filler_hyaluronidase_allergy",
        None,
        CAUTION,
    ),
    ({"keloid_scarring": True}, "filler_keloid", None, CAUTION),
    ({"permanent_lip_filler_or_implant": True}, "filler_permanent", None, CAUTION),
    ({"previous_vascular_complication": True}, "filler_vascular_history", None, CAUTION),
    ({"bleeding_disorder": True}, "filler_bleeding", None, CAUTION),
    ({"immunosuppressed": True}, "filler_immunosuppressed", None, CAUTION),
    ({"cold_sores": True}, "filler_cold_sores", None, CAUTION),
    ({"dental_work_date": date(2026, 12, 1)}, "filler_dental_work", None, CAUTION),
]


@pytest.mark.parametrize(("changes", "code", "flip", "filler"), ROWS)
def test_each_row_for_each_procedure(changes, code, flip, filler):
    for agents, expected in ((TOXIN, flip), (FILLER, filler), (COMBINED, flip or filler)):
        result = run(agents, **changes)
        if expected is None:
            assert code not in result.codes, agents
            assert result.outcome == CLEAR, agents
        else:
            assert code in result.codes, agents
            assert result.outcome == expected, agents


def test_a_clean_history_is_clear_for_every_procedure():
    for agents in (TOXIN, FILLER, COMBINED):
        result = run(agents)
        assert (result.outcome, result.reasons) == (CLEAR, ())


def test_over_the_counter_thinners_are_left_to_the_precare_window():
    assert run(COMBINED, otc_blood_thinners=["aspirin", "fish_oil"]).outcome == CLEAR


def test_the_worst_finding_decides_and_all_are_listed():
    result = run(COMBINED, allergy_lidocaine=True, neuromuscular_disease=True)
    assert result.outcome == CONTRA
    assert set(result.codes) == {"filler_lidocaine", "toxin_neuromuscular"}


def test_a_combined_procedure_lists_a_shared_finding_once():
    assert run(COMBINED, prescribed_anticoagulants=["apixaban"]).codes == ["anticoagulants"]


@pytest.mark.parametrize(
    ("born", "flip", "filler"),
    [
        # Under 18 is the safety engine's age rule (tests/treatments/test_safety_engine.py),
        # never waiting for a history; the table only knows the filler labels' 22.
        (date(2008, 12, 11), CLEAR, CLEAR),  # 17: turns 18 the day after
        (date(2008, 12, 10), CLEAR, CAUTION),  # 18 on the day
        (date(2004, 12, 11), CLEAR, CAUTION),  # 21: some labels say 22
        (date(2004, 12, 10), CLEAR, CLEAR),  # 22 on the day
    ],
)
def test_age_limits_at_their_birthdays(born, flip, filler):
    assert run(TOXIN, born=born).outcome == flip
    assert run(FILLER, born=born).outcome == filler


@pytest.mark.parametrize(
    ("dental", "flagged"),
    [
        (date(2026, 11, 26), False),  # 14 days before
        (date(2026, 11, 27), True),  # 13 days before
        (TREATMENT_DAY, True),
        (date(2026, 12, 23), True),  # 13 days after (planned)
        (date(2026, 12, 24), False),  # 14 days after
    ],
)
def test_dental_work_margin_both_sides(dental, flagged):
    assert ("filler_dental_work" in run(FILLER, dental_work_date=dental).codes) is flagged


def test_front_desk_summary_says_the_outcome_not_the_reason():
    result = run(FILLER, pregnant_or_breastfeeding=True)
    assert "pregnan" not in result.staff_summary().lower()
    assert "practitioner" in result.staff_summary()
