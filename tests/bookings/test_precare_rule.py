"""The pre-care window at every boundary (DOMAIN.md): D-5 ... D."""

from datetime import date

import pytest

from treatments.safety.precare import Verdict, precare_check

D = date(2026, 12, 10)  # a Thursday


def check(booked_on, **window):
    window = {"min_days": 3, "recommended_days": 4} | window
    return precare_check(appointment_date=D, booking_date=booked_on, **window)


@pytest.mark.parametrize(
    ("booked_on", "verdict", "stop"),
    [
        (date(2026, 12, 5), Verdict.OK, date(2026, 12, 6)),  # D-5: stop from D-4
        (date(2026, 12, 6), Verdict.OK, date(2026, 12, 6)),  # D-4: stop from today, no warning
        (date(2026, 12, 7), Verdict.SHORT, date(2026, 12, 7)),  # D-3: stop today, warned
        (date(2026, 12, 8), Verdict.TOO_LATE, date(2026, 12, 7)),  # D-2
        (date(2026, 12, 9), Verdict.TOO_LATE, date(2026, 12, 7)),  # D-1
        (date(2026, 12, 10), Verdict.TOO_LATE, date(2026, 12, 7)),  # D itself
    ],
)
def test_every_boundary(booked_on, verdict, stop):
    result = check(booked_on)
    assert (result.verdict, result.stop_date) == (verdict, stop)
    assert result.accepted is (verdict != Verdict.TOO_LATE)


def test_a_refusal_names_the_earliest_date_that_works():
    result = check(date(2026, 12, 8))
    assert result.earliest_date == date(2026, 12, 11)  # booked D-2: D+1 is 3 days ahead
    assert result.recommended_date == date(2026, 12, 12)
    assert check(result.earliest_date, min_days=3).earliest_date == date(2026, 12, 14)


def test_the_earliest_date_itself_is_accepted_with_a_warning():
    booked_on = date(2026, 12, 8)
    earliest = check(booked_on).earliest_date
    assert (
        precare_check(
            appointment_date=earliest, booking_date=booked_on, min_days=3, recommended_days=4
        ).verdict
        == Verdict.SHORT
    )


@pytest.mark.parametrize(
    ("booked_on", "verdict"),
    [
        (date(2026, 12, 3), Verdict.OK),
        (date(2026, 12, 4), Verdict.SHORT),
        (date(2026, 12, 5), Verdict.SHORT),
        (date(2026, 12, 6), Verdict.TOO_LATE),
    ],
)
def test_a_longer_window_moves_every_boundary(booked_on, verdict):
    # e.g. a combined procedure whose part needs 5 to 7 days
    assert check(booked_on, min_days=5, recommended_days=7).verdict == verdict


def test_equal_minimum_and_recommended_has_no_warning_band():
    assert check(date(2026, 12, 7), min_days=3, recommended_days=3).verdict == Verdict.OK
    assert check(date(2026, 12, 8), min_days=3, recommended_days=3).verdict == Verdict.TOO_LATE


def test_nonsense_windows_are_a_programming_error():
    with pytest.raises(ValueError):
        check(date(2026, 12, 1), min_days=4, recommended_days=3)
