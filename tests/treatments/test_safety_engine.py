"""The safety engine, pure: every rule at its boundaries, and the rules x steps
matrix with a completeness check (as tests/test_access_matrix.py does for URLs).
No database."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.medical import ALL_NO
from clinic.rules import HistoryState
from treatments.safety.engine import (
    APPLIES,
    Case,
    Dose,
    DoseLimits,
    KitState,
    OtherAppointment,
    Outcome,
    Part,
    PastTreatment,
    PatientFacts,
    Prescribed,
    ProcedureFacts,
    Report,
    Rule,
    SameDay,
    Step,
    earliest_adult_day,
    evaluate,
    relied_on,
)

S, R = Step, Rule
TODAY = date(2026, 11, 26)
DAY = date(2026, 12, 1)  # D: five days ahead

FLIP = Part("Lip flip", "toxin", 90, DoseLimits(*map(Decimal, ("6", "10", "10", "20"))))
FILLER = Part("Lip filler", "filler", None, DoseLimits(*map(Decimal, ("1", "3", "2", "5"))))


def procedure(*parts, minimum=3, recommended=4):
    return ProcedureFacts(" and ".join(p.name for p in parts), parts, minimum, recommended)


def answers(**changes):
    return SimpleNamespace(
        **{
            **ALL_NO,
            "dental_work_date": None,
            "prescribed_anticoagulants": [],
            "otc_blood_thinners": [],
            **changes,
        }
    )


def patient(**changes):
    base = {
        "name": "Hana Healthy",
        "date_of_birth": date(1990, 5, 4),
        "history": answers(),
        "history_state": HistoryState.CURRENT,
    }
    return PatientFacts(**{**base, **changes})


CLEAR_DAY = SameDay(on=DAY, window_kept=True)
# A kit checked the day before, nothing short, two vials of hyaluronidase.
KIT_OK = KitState(DAY - timedelta(days=1), 7, (), 2)


def case(step, *, parts=(FLIP,), today=TODAY, day=DAY, **changes):
    fields = {
        "step": step,
        "today": today,
        "day": day,
        "procedure": procedure(*parts),
        "patient": patient(),
    }
    if step == S.TREATMENT_START:
        fields.update(today=day, same_day=CLEAR_DAY, kit=KIT_OK)
    if step in (S.PATIENT_MOVE, S.PATIENT_CANCEL):
        fields["hours_left"] = 120
    fields.update(changes)
    return Case(**fields)


def codes(c):
    return evaluate(c).codes()


def refused(c):
    return [f.code for f in evaluate(c).refusals]


def toxin(amount, *, product="Botox", per_botox=Decimal(1), **changes):
    amount = Decimal(amount)
    return Dose(product, "toxin", "U", amount, None, amount / per_botox, **changes)


def pom(amount, product="Botox", per_botox=Decimal(1)):
    """A toxin dose of a prescription-only medicine."""
    return toxin(amount, product=product, per_botox=per_botox, needs_prescription=True)


def prescribed(most="6", *, product="Botox", pk=1, written_on=DAY, until=DAY, **changes):
    return Prescribed(pk, "Dr Presc", written_on, until, ((product, Decimal(most)),), **changes)


def filler(amount, lip="upper", product="Volbella"):
    amount = Decimal(amount)
    return Dose(product, "filler", "mL", amount, lip, amount)


# The matrix: one row per rule, the steps it is checked at. A cell missing
# here, or a rule or step added to the engine without its row, fails below.
BOOKING = {S.BOOK, S.MOVE, S.PATIENT_BOOK, S.PATIENT_MOVE}
MATRIX = {
    R.AGE: BOOKING | {S.CHECK_IN, S.TREATMENT_START, S.SIGN},
    R.TOXIN_GAP: BOOKING | {S.CHECK_IN, S.TREATMENT_START, S.SIGN},
    R.HISTORY: BOOKING | {S.CHECK_IN, S.TREATMENT_START},
    R.SCREENING: BOOKING | {S.CHECK_IN, S.TREATMENT_START, S.LINE_ADD, S.SIGN},
    R.PRECARE: BOOKING,
    R.ONLINE_POLICY: {S.PATIENT_BOOK, S.PATIENT_MOVE, S.PATIENT_CANCEL},
    R.SAME_DAY: {S.TREATMENT_START},
    R.DOSES: {S.LINE_ADD, S.SIGN},
    R.REBOOK_GAP: {S.FOLLOW_UP, S.SIGN},
    R.PRESCRIPTION: {S.TREATMENT_START, S.LINE_ADD, S.SIGN},
    R.RED_FLAGS: {S.PATIENT_REPORT},
    R.EMERGENCY_KIT: {S.TREATMENT_START},
}

# For each rule, a case maker that breaks it at a given step: the cell is
# tested by checking the rule refuses exactly where the matrix says.
BREAKERS = {
    R.AGE: lambda step: case(step, patient=patient(date_of_birth=date(2010, 1, 1))),
    R.TOXIN_GAP: lambda step: case(
        step, patient=patient(past=(PastTreatment(DAY - timedelta(days=18), frozenset({"toxin"})),))
    ),
    R.HISTORY: lambda step: case(
        step, patient=patient(history=None, history_state=HistoryState.MISSING)
    ),
    R.SCREENING: lambda step: case(step, patient=patient(history=answers(infection_at_site=True))),
    R.PRECARE: lambda step: case(step, day=TODAY + timedelta(days=2)),
    # Too late to change, and (booking or moving) only the minimum window left.
    R.ONLINE_POLICY: lambda step: case(step, hours_left=47, day=TODAY + timedelta(days=3)),
    R.SAME_DAY: lambda step: case(step, same_day=SameDay(on=DAY, window_kept=False)),
    R.DOSES: lambda step: case(
        step, new_dose=toxin("21"), doses=(toxin("21"),) if step == S.SIGN else ()
    ),
    R.REBOOK_GAP: lambda step: case(step, rebook_date=DAY + timedelta(days=30)),
    # Toxin with no prescription for it.
    R.PRESCRIPTION: lambda step: case(
        step,
        prescription_only=frozenset({"Botox"}),
        new_dose=pom("2"),
        doses=(pom("2"),) if step == S.SIGN else (),
    ),
    # A patient reports a change in their sight after the treatment.
    R.RED_FLAGS: lambda step: case(step, report=Report(yes=frozenset({"vision"}))),
    # Filler with a kit never checked.
    R.EMERGENCY_KIT: lambda step: case(step, parts=(FILLER,), kit=None),
}

# Rules that only flag at some steps (the history is needed by treatment).
FLAG_ONLY = {(R.HISTORY, step) for step in (*BOOKING, S.CHECK_IN)}
# Rules that never refuse: a red flag is an emergency (call 999, the clinic is told).
EMERGENCY_ONLY = {(R.RED_FLAGS, S.PATIENT_REPORT)}


def test_the_matrix_is_complete():
    assert set(MATRIX) == set(Rule), "add the new rule to MATRIX and BREAKERS"
    assert set(BREAKERS) == set(Rule)
    used = set().union(*MATRIX.values())
    assert used == set(Step), "a step no rule is checked at, or a step missing from MATRIX"


def test_the_engine_checks_each_rule_where_the_matrix_says():
    assert {rule: set(steps) for rule, (_, steps) in APPLIES.items()} == MATRIX


@pytest.mark.parametrize(("rule", "step"), [(r, s) for r in Rule for s in Step])
def test_each_cell(rule, step):
    findings = [f for f in evaluate(BREAKERS[rule](step)).findings if f.rule == rule]
    outcomes = {f.outcome for f in findings}
    if step not in MATRIX[rule]:
        assert not findings, f"{rule} is not checked at {step}"
    elif (rule, step) in FLAG_ONLY:
        assert outcomes == {Outcome.FLAG}
    elif (rule, step) in EMERGENCY_ONLY:
        assert outcomes == {Outcome.EMERGENCY}
    else:
        assert Outcome.REFUSE in outcomes, f"{rule} must refuse at {step}"


# Boundaries


@pytest.mark.parametrize(("days", "ok"), [(89, False), (90, True), (91, True)])
def test_toxin_gap_89_90(days, ok):
    last = PastTreatment(DAY - timedelta(days=days), frozenset({"toxin"}))
    for step in (S.BOOK, S.TREATMENT_START, S.SIGN):
        assert ("toxin_too_soon" in refused(case(step, patient=patient(past=(last,))))) is not ok


def test_toxin_gap_names_the_earliest_date_and_counts_toxin_elsewhere():
    elsewhere = SameDay(on=DAY, window_kept=True, toxin_elsewhere_on=DAY - timedelta(days=20))
    result = evaluate(case(S.TREATMENT_START, same_day=elsewhere))
    assert result.refusals[0].code == "toxin_too_soon"
    assert result.earliest == DAY - timedelta(days=20) + timedelta(days=90)
    assert "another clinic" in result.refusals[0].message


def test_filler_has_no_toxin_gap_and_a_combined_procedure_checks_its_toxin_part():
    last = PastTreatment(DAY - timedelta(days=18), frozenset({"toxin"}))
    assert refused(case(S.BOOK, parts=(FILLER,), patient=patient(past=(last,)))) == []
    assert refused(case(S.BOOK, parts=(FLIP, FILLER), patient=patient(past=(last,)))) == [
        "toxin_too_soon"
    ]


def test_another_toxin_booking_inside_the_gap_is_flagged():
    other = OtherAppointment(DAY + timedelta(days=30), "Lip flip", frozenset({"toxin"}))
    result = evaluate(case(S.BOOK, patient=patient(booked=(other,))))
    assert [f.code for f in result.flags] == ["toxin_booked_nearby"]


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (date(2008, 12, 2), False),  # 17 years 364 days on 1 December 2026
        (date(2008, 12, 1), True),  # 18 that day
    ],
)
def test_age_17_years_364_days_and_18(born, ok):
    for step in (S.BOOK, S.CHECK_IN, S.TREATMENT_START):
        c = case(step, patient=patient(date_of_birth=born, history=None))
        assert ("under_age" in refused(c)) is not ok


def test_age_is_refused_with_no_history_at_all_and_names_the_birthday():
    result = evaluate(case(S.BOOK, patient=patient(date_of_birth=date(2010, 3, 1), history=None)))
    assert result.refusals[0].code == "under_age"
    assert result.earliest == date(2028, 3, 1)


def test_born_on_29_february_turns_18_on_1_march_in_a_common_year():
    assert earliest_adult_day(date(2008, 2, 29)) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("days_ahead", "outcome"),
    [(5, None), (4, None), (3, "precare_short"), (2, "precare_too_late")],
)
def test_precare_d4_d3_d2(days_ahead, outcome):
    found = codes(case(S.BOOK, day=TODAY + timedelta(days=days_ahead)))
    precare = [c for c in found if c.startswith("precare")]
    assert precare == ([outcome] if outcome else [])


def test_a_staff_statement_books_inside_the_window_but_never_online():
    short = TODAY + timedelta(days=2)
    assert codes(case(S.BOOK, day=short, attested=True)) == ["precare_attested"]
    assert "precare_too_late" in refused(case(S.PATIENT_MOVE, day=short, attested=True))


def test_online_a_patient_gets_the_recommended_window_only():
    for step in (S.PATIENT_BOOK, S.PATIENT_MOVE):
        assert refused(case(step, day=TODAY + timedelta(days=3))) == ["patient_window"]
        assert refused(case(step, day=TODAY + timedelta(days=4))) == []
    assert refused(case(S.MOVE, day=TODAY + timedelta(days=3))) == []


@pytest.mark.parametrize(("hours", "ok"), [(47.9, False), (48, True)])
def test_notice_period_for_patient_changes(hours, ok):
    for step in (S.PATIENT_MOVE, S.PATIENT_CANCEL):
        assert ("too_late_to_change" in refused(case(step, hours_left=hours))) is not ok


def test_a_longer_window_for_a_blood_thinner_the_patient_takes():
    nsaids = patient(substance_windows=(("nsaids", 7, 7),))
    result = evaluate(case(S.BOOK, patient=nsaids, day=TODAY + timedelta(days=5)))
    assert result.refusals[0].code == "precare_too_late"
    assert result.earliest == TODAY + timedelta(days=7)


def test_an_active_cold_sore_rules_out_a_lip_flip():
    sore = patient(history=answers(active_cold_sore=True))
    assert refused(case(S.BOOK, patient=sore)) == ["contraindicated"]
    assert refused(case(S.TREATMENT_START, patient=sore)) == ["ruled_out"]


def test_the_front_desk_reads_the_outcome_not_the_clinical_reasons():
    sick = patient(history=answers(pregnant_or_breastfeeding=True))
    (booking,) = evaluate(case(S.BOOK, patient=sick)).refusals
    (chair,) = evaluate(case(S.TREATMENT_START, patient=sick)).refusals
    assert "breastfeeding" not in booking.message
    assert "breastfeeding" in chair.message


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("pregnant_or_breastfeeding", "same_day_pregnant"),
        ("active_cold_sore", "same_day_site"),
        ("infection_at_site", "same_day_site"),
    ],
)
def test_same_day_blocking_answers(field, code):
    answers_today = SameDay(on=DAY, window_kept=True, **{field: True})
    assert refused(case(S.TREATMENT_START, same_day=answers_today)) == [code]


def test_same_day_window_uses_the_minimum_day_and_offers_a_date():
    result = evaluate(case(S.TREATMENT_START, same_day=SameDay(on=DAY, window_kept=False)))
    (finding,) = result.refusals
    assert "Saturday 28 November 2026" in finding.message  # D-3, not D-4 (Friday 27)
    assert result.earliest == DAY + timedelta(days=3)


def test_same_day_flags_and_a_check_from_another_day():
    flagged = SameDay(on=DAY, window_kept=True, antibiotics_now=True, dental_work_recent=True)
    result = evaluate(case(S.TREATMENT_START, parts=(FILLER,), same_day=flagged))
    assert result.refusals == [] and [f.code for f in result.flags] == ["same_day_flags"]
    stale = SameDay(on=DAY - timedelta(days=1), window_kept=True)
    assert refused(case(S.TREATMENT_START, same_day=stale)) == ["same_day_missing"]


# Doses per session


def test_doses_across_toxin_products_in_botox_equivalent():
    # 10 U Botox + 25 U Dysport = 20 Botox-equivalent units: above the maximum of 10.
    doses = (toxin("10"), toxin("25", product="Dysport", per_botox=Decimal("2.5")))
    assert refused(case(S.SIGN, doses=doses)) == ["reason_required"]
    assert refused(case(S.SIGN, doses=doses, over_maximum_reason=True)) == []


def test_filler_across_products_per_session():
    doses = (filler("1.4", "upper"), filler("1.4", "lower", product="Kysse"))
    assert refused(case(S.SIGN, parts=(FILLER,), doses=doses)) == []
    more = (*doses, filler("1.4", "upper"), filler("1.4", "lower", product="Kysse"))
    assert refused(case(S.SIGN, parts=(FILLER,), doses=more)) == ["dose_session_ceiling"]


@pytest.mark.parametrize(("amount", "warned"), [("1.5", False), ("1.51", True)])
def test_per_lip_warning_1_5_and_1_51(amount, warned):
    result = evaluate(case(S.LINE_ADD, parts=(FILLER,), new_dose=filler(amount)))
    messages = " ".join(f.message for f in result.flags)
    assert ("per lip" in messages) is warned


@pytest.mark.parametrize(
    ("amount", "outcome"),
    [("2", None), ("2.01", "dose_line_ceiling"), ("9999", "dose_line_ceiling")],
)
def test_a_line_above_the_ceiling_is_refused_whatever_the_reason(amount, outcome):
    c = case(S.LINE_ADD, parts=(FILLER,), new_dose=filler(amount), over_maximum_reason=True)
    assert (outcome in refused(c)) if outcome else "dose_line_ceiling" not in refused(c)


def test_rebook_sooner_than_the_gap_is_refused():
    assert refused(case(S.FOLLOW_UP, rebook_date=DAY + timedelta(days=89))) == ["rebook_too_soon"]
    assert refused(case(S.FOLLOW_UP, rebook_date=DAY + timedelta(days=90))) == []
    assert refused(case(S.FOLLOW_UP, parts=(FILLER,), rebook_date=DAY + timedelta(days=14))) == []


# Hypothesis: the engine against the table of the toxin gap and the window.


@given(
    days_since=st.integers(min_value=0, max_value=400),
    days_ahead=st.integers(min_value=0, max_value=30),
    attested=st.booleans(),
)
def test_the_engine_agrees_with_the_rules_written_out(days_since, days_ahead, attested):
    day = TODAY + timedelta(days=days_ahead)
    last = PastTreatment(day - timedelta(days=days_since), frozenset({"toxin"}))
    result = evaluate(case(S.BOOK, day=day, attested=attested, patient=patient(past=(last,))))
    expected = set()
    if days_since < 90:
        expected.add("toxin_too_soon")
    if days_ahead < 3 and not attested:
        expected.add("precare_too_late")
    assert {f.code for f in result.refusals} == expected
    if expected:
        assert result.earliest is not None
        clears = case(
            S.BOOK,
            day=result.earliest,
            attested=attested,
            patient=patient(past=(last,)),
        )
        assert evaluate(clears).refusals == []


@pytest.mark.parametrize(("days", "ok"), [(90, True), (91, False)])
def test_online_booking_horizon(days, ok):
    c = case(S.PATIENT_BOOK, day=TODAY + timedelta(days=days), days_ahead_limit=90)
    assert ("too_far_ahead" in refused(c)) is not ok
    assert "too_far_ahead" not in refused(replace_step(c, S.BOOK))


@pytest.mark.parametrize(("hours", "ok"), [(24, True), (23.99, False)])
def test_online_least_notice(hours, ok):
    c = case(S.PATIENT_BOOK, day=TODAY + timedelta(days=5), min_notice_hours=24, hours_ahead=hours)
    assert ("too_short_notice" in refused(c)) is not ok
    assert ("too_short_notice" in refused(replace_step(c, S.PATIENT_MOVE))) is not ok
    assert "too_short_notice" not in refused(replace_step(c, S.BOOK))
    assert "too_short_notice" not in refused(case(S.PATIENT_BOOK, day=c.day, hours_ahead=hours))


def test_a_procedure_not_offered_online_is_refused_online_only():
    c = case(S.PATIENT_BOOK, offered_online=False, not_offered="Lip filler")
    assert refused(c) == ["not_bookable_online"]
    assert refused(replace_step(c, S.BOOK)) == []


def replace_step(c, step):
    from dataclasses import replace

    return replace(c, step=step)


# Prescriptions: toxin is a prescription-only medicine (UK).


def treated(step, *prescriptions, doses=(), new_dose=None):
    return case(
        step,
        prescription_only=frozenset({"Botox", "Azzalure"}),
        prescriptions=prescriptions,
        doses=doses,
        new_dose=new_dose,
    )


@pytest.mark.parametrize("step", [S.TREATMENT_START, S.LINE_ADD, S.SIGN])
def test_toxin_without_a_prescription_is_refused_at_each_clinical_step(step):
    c = treated(step, doses=(pom("2"),), new_dose=pom("2") if step == S.LINE_ADD else None)
    assert refused(c) == ["prescription_missing"]
    assert "assess them face to face" in evaluate(c).refusals[0].message


@pytest.mark.parametrize(
    ("until", "code"),
    [(DAY - timedelta(days=1), "prescription_expired"), (DAY, None), (DAY + timedelta(1), None)],
)
def test_a_prescription_is_valid_to_the_end_of_its_last_day(until, code):
    c = treated(
        S.LINE_ADD, prescribed(until=until, written_on=DAY - timedelta(30)), new_dose=pom(2)
    )
    assert refused(c) == ([code] if code else [])


def test_a_prescription_written_after_the_treatment_day_does_not_count():
    c = treated(
        S.TREATMENT_START, prescribed(written_on=DAY + timedelta(days=1), until=DAY + timedelta(9))
    )
    assert refused(c) == ["prescription_missing"]


def test_a_withdrawn_prescription_is_refused():
    c = treated(S.SIGN, prescribed(withdrawn=True), doses=(pom("2"),))
    assert refused(c) == ["prescription_withdrawn"]


@pytest.mark.parametrize(("new", "ok"), [("2", True), ("2.01", False)])
def test_above_the_prescribed_amount_is_refused_at_line_and_sign(new, ok):
    lines = (pom("4"), pom(new))
    at_line = treated(S.LINE_ADD, prescribed("6"), doses=lines[:1], new_dose=lines[1])
    at_sign = treated(S.SIGN, prescribed("6"), doses=lines)
    for c in (at_line, at_sign):
        assert refused(c) == ([] if ok else ["prescription_exceeded"])
    if not ok:
        assert "6 U the prescription by Dr Presc allows" in evaluate(at_line).refusals[0].message


def test_the_amount_is_in_the_products_own_units():
    # 15 Azzalure units are 6 Botox-equivalent: the prescription says 15 Azzalure units.
    azzalure = pom("15", product="Azzalure", per_botox=Decimal("2.5"))
    c = treated(S.LINE_ADD, prescribed("15", product="Azzalure"), new_dose=azzalure)
    assert refused(c) == []
    assert refused(replace_dose(c, pom("16", product="Azzalure", per_botox=Decimal("2.5")))) == [
        "prescription_exceeded"
    ]


def replace_dose(c, dose):
    from dataclasses import replace

    return replace(c, new_dose=dose)


def test_a_prescription_for_another_product_does_not_cover_this_one():
    c = treated(S.LINE_ADD, prescribed(product="Azzalure"), new_dose=pom("2"))
    assert refused(c) == ["prescription_missing"]


def test_filler_needs_no_prescription():
    c = case(S.LINE_ADD, parts=(FILLER,), new_dose=filler("0.5"))
    assert refused(c) == []


def test_the_record_relies_on_the_newest_valid_prescription():
    old = prescribed(pk=1, written_on=DAY - timedelta(days=20), until=DAY + timedelta(days=9))
    new = prescribed(pk=2, written_on=DAY, until=DAY + timedelta(days=9))
    gone = prescribed(pk=3, written_on=DAY, until=DAY + timedelta(days=9), withdrawn=True)
    c = treated(S.SIGN, old, new, gone, doses=(pom("2"),))
    assert relied_on(c).pk == 2
    assert relied_on(treated(S.SIGN, old, gone, doses=(pom("2"),))).pk == 1
    assert relied_on(treated(S.SIGN, gone, doses=(pom("2"),))) is None


# A patient's report after a treatment (issue 18): any red flag answered yes
# is an emergency, whatever was injected; anything else is for review.

RED_FLAG_CODES = ["vision", "pain", "skin", "breathing"]


def reported(*yes, parts=(FLIP,)):
    return evaluate(case(S.PATIENT_REPORT, parts=parts, report=Report(yes=frozenset(yes))))


@pytest.mark.parametrize("code", RED_FLAG_CODES)
@pytest.mark.parametrize("parts", [(FLIP,), (FILLER,), (FLIP, FILLER)])
def test_each_red_flag_alone_is_an_emergency_after_any_treatment(code, parts):
    assessment = reported(code, parts=parts)
    assert assessment.emergency
    assert [f.code for f in assessment.findings] == ["red_flag_reported"]


def test_no_red_flag_is_for_the_practitioners_review():
    assessment = reported()
    assert not assessment.emergency and not assessment.refused
    assert [(f.outcome, f.code) for f in assessment.findings] == [
        (Outcome.FLAG, "report_for_review")
    ]


def test_every_red_flag_is_named_once_in_the_questions_order():
    (finding,) = reported(*reversed(RED_FLAG_CODES)).findings
    signs = finding.params["signs"]
    named = [signs.index(word) for word in ("sight", "pain", "skin", "swallowing")]
    assert named == sorted(named)


def test_an_unknown_answer_is_not_a_red_flag():
    assert not reported("itching").emergency


def test_the_red_flag_questions_cover_each_sign_the_aftercare_names():
    from treatments.aftercare import RED_FLAG_QUESTIONS, RED_FLAGS

    assert [q.code for q in RED_FLAG_QUESTIONS] == RED_FLAG_CODES
    assert sum(len(flags.signs) for flags in RED_FLAGS) == len(RED_FLAG_QUESTIONS)


# The emergency kit (issue 18): filler starts only with a checked, complete
# kit and in-date hyaluronidase.


def kit_codes(kit, *, parts=(FILLER,)):
    return [f.code for f in evaluate(case(S.TREATMENT_START, parts=parts, kit=kit)).refusals]


@pytest.mark.parametrize(
    ("checked_days_ago", "every", "refused_"),
    [(7, 7, False), (8, 7, True), (0, 1, False), (1, 1, False), (2, 1, True), (31, 31, False)],
)
def test_kit_check_is_due_every_days_after_the_last_and_refused_the_day_after(
    checked_days_ago, every, refused_
):
    kit = KitState(DAY - timedelta(days=checked_days_ago), every, (), 1)
    assert kit_codes(kit) == (["kit_check_overdue"] if refused_ else [])


def test_a_kit_never_checked_or_not_read_refuses_filler():
    assert kit_codes(None) == ["kit_never_checked"]
    assert kit_codes(KitState(None, 7, (), 3)) == ["kit_never_checked"]


def test_a_kit_check_that_found_items_short_refuses_filler_and_names_them():
    kit = KitState(DAY, 7, ("Adrenaline 1 mg/mL",), 2)
    findings = evaluate(case(S.TREATMENT_START, parts=(FILLER,), kit=kit)).refusals
    assert [f.code for f in findings] == ["kit_incomplete"]
    assert "Adrenaline 1 mg/mL" in findings[0].message
    assert "check it again" in findings[0].message


@pytest.mark.parametrize(("vials", "refused_"), [(0, True), (1, False)])
def test_filler_needs_in_date_hyaluronidase_in_stock(vials, refused_):
    kit = KitState(DAY, 7, (), vials)
    assert kit_codes(kit) == (["kit_no_hyaluronidase"] if refused_ else [])


def test_an_overdue_check_and_no_hyaluronidase_are_both_said():
    kit = KitState(DAY - timedelta(days=30), 7, ("Hyaluronidase",), 0)
    assert kit_codes(kit) == ["kit_check_overdue", "kit_no_hyaluronidase"]


def test_the_kit_is_not_asked_for_toxin_alone_and_is_for_a_combined_procedure():
    assert kit_codes(None, parts=(FLIP,)) == []
    assert kit_codes(None, parts=(FLIP, FILLER)) == ["kit_never_checked"]


def test_the_overdue_message_names_both_days():
    kit = KitState(date(2026, 11, 20), 7, (), 1)
    (finding,) = evaluate(case(S.TREATMENT_START, parts=(FILLER,), kit=kit)).refusals
    assert "Friday 20 November 2026" in finding.message
    assert "Friday 27 November 2026" in finding.message
