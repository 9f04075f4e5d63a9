"""Pure rules about people: no database, no clock (dates are arguments)."""

import calendar
from datetime import date
from enum import StrEnum


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's end:
    31 August + 6 months is 28/29 February."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_on(date_of_birth: date, on: date) -> int:
    """Whole years of age on a date (someone born 29 February turns a year
    older on 1 March in common years)."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


class HistoryState(StrEnum):
    MISSING = "missing"
    STALE = "stale"
    INCOMPLETE = "incomplete"
    CURRENT = "current"


def history_state(
    submitted_on: date | None, *, today: date, max_age_months: int, complete: bool = True
) -> HistoryState:
    """A medical history must be re-confirmed once it is `max_age_months` old,
    and updated when it lacks answers to questions added after it was given.

    Submitted on 26 May, with 6 months: current to 25 November inclusive,
    stale from 26 November. Missing comes first, then stale (re-confirming or
    updating it is due anyway), then incomplete.
    """
    if submitted_on is None:
        return HistoryState.MISSING
    if today >= add_months(submitted_on, max_age_months):
        return HistoryState.STALE
    if not complete:
        return HistoryState.INCOMPLETE
    return HistoryState.CURRENT


def history_expires_on(submitted_on: date, *, max_age_months: int) -> date:
    """The first day the history counts as stale."""
    return add_months(submitted_on, max_age_months)
