from datetime import date

import pytest

from clinic.rules import HistoryState, add_months, age_on, history_state


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 5, 26), 6, date(2026, 11, 26)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2000, 6, 15), date(2018, 6, 14), 17),
        (date(2000, 6, 15), date(2018, 6, 15), 18),
        (date(2004, 2, 29), date(2022, 2, 28), 17),
        (date(2004, 2, 29), date(2022, 3, 1), 18),
    ],
)
def test_age_on(born, on, age):
    assert age_on(born, on) == age


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2026, 5, 26), HistoryState.CURRENT),
        (date(2026, 11, 25), HistoryState.CURRENT),  # the last day it counts
        (date(2026, 11, 26), HistoryState.STALE),  # exactly six months: re-confirm
        (date(2027, 3, 1), HistoryState.STALE),
    ],
)
def test_history_goes_stale_at_six_months(today, state):
    assert history_state(date(2026, 5, 26), today=today, max_age_months=6) == state


def test_no_history_is_missing():
    assert history_state(None, today=date(2026, 1, 1), max_age_months=6) == HistoryState.MISSING


def test_the_age_limit_is_configurable():
    submitted = date(2026, 5, 26)
    assert history_state(submitted, today=date(2026, 8, 26), max_age_months=3) == "stale"
    assert history_state(submitted, today=date(2026, 8, 25), max_age_months=3) == "current"


@pytest.mark.parametrize(
    ("submitted", "today", "state"),
    [
        (None, date(2026, 11, 25), HistoryState.MISSING),
        (date(2026, 5, 26), date(2026, 11, 25), HistoryState.INCOMPLETE),  # last current day
        (date(2026, 5, 26), date(2026, 11, 26), HistoryState.STALE),  # stale comes first
    ],
)
def test_an_incomplete_history_after_missing_and_stale(submitted, today, state):
    assert history_state(submitted, today=today, max_age_months=6, complete=False) == state
