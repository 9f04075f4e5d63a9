"""The pre-care window, pure: no database, no clock.

The clinic's rule (../shared/DOMAIN.md): for an appointment on local day D, the
patient takes no alcohol and no over-the-counter blood thinners from the start
of D - recommended days (4), or D - minimum days (3) at the latest. Days are
whole calendar days in the clinic's time zone, so callers pass local dates.

When a booking is made or moved on local day T:
- T <= D - recommended: accept; the patient stops from D - recommended.
- D - recommended < T <= D - minimum: accept with a warning; stop today (T).
- T > D - minimum: refuse, naming the earliest date that works (T + minimum),
  unless staff record the patient's statement that they have had no alcohol or
  blood thinners since D - minimum; then accept, flagged.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"
    SHORT = "short_window"
    TOO_LATE = "too_late"


@dataclass(frozen=True)
class Precare:
    verdict: Verdict
    appointment_date: date
    booking_date: date
    # The day the patient stops (or, when too late, should have stopped) from.
    stop_date: date
    # The first appointment date that works when booked on booking_date, and
    # the first that gives the recommended window.
    earliest_date: date
    recommended_date: date

    @property
    def accepted(self):
        return self.verdict != Verdict.TOO_LATE


def precare_check(
    *, appointment_date: date, booking_date: date, min_days: int, recommended_days: int
) -> Precare:
    if not 1 <= min_days <= recommended_days:
        raise ValueError("need 1 <= min_days <= recommended_days")
    days_ahead = (appointment_date - booking_date).days
    if days_ahead >= recommended_days:
        verdict, stop = Verdict.OK, appointment_date - timedelta(days=recommended_days)
    elif days_ahead >= min_days:
        verdict, stop = Verdict.SHORT, booking_date
    else:
        verdict, stop = Verdict.TOO_LATE, appointment_date - timedelta(days=min_days)
    return Precare(
        verdict=verdict,
        appointment_date=appointment_date,
        booking_date=booking_date,
        stop_date=stop,
        earliest_date=booking_date + timedelta(days=min_days),
        recommended_date=booking_date + timedelta(days=recommended_days),
    )
