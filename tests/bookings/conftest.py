from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bookings.models import WorkingHours
from clinic.medical import ALL_NO
from tests.factories import MedicalHistoryFactory, PatientFactory
from treatments.models import Procedure

LONDON = ZoneInfo("Europe/London")
# Thursday 26 November 2026, 09:00 in London (GMT): "now" for these tests.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)


def at(day, hhmm):
    """An aware datetime at a local wall-clock time in the clinic's zone."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LONDON)


def every_day(practitioner, *spans):
    for weekday in range(7):
        for start, end in spans:
            WorkingHours.objects.create(
                practitioner=practitioner, weekday=weekday, starts=start, ends=end
            )


@pytest.fixture
def clinic_hours(db):
    every_day(None, (time(8), time(20)))


@pytest.fixture
def injector(practitioner, clinic_hours):
    """A practitioner working every day 09:00-13:00 and 14:00-17:00."""
    every_day(practitioner, (time(9), time(13)), (time(14), time(17)))
    return practitioner


@pytest.fixture
def second_injector(other_practitioner, clinic_hours):
    every_day(other_practitioner, (time(9), time(17)))
    return other_practitioner


@pytest.fixture
def flip(db):
    return Procedure.objects.with_parts().get(code="lip-flip")


@pytest.fixture
def filler(db):
    return Procedure.objects.with_parts().get(code="lip-filler")


@pytest.fixture
def combined(db):
    return Procedure.objects.with_parts().get(code="lip-flip-and-filler")


@pytest.fixture
def healthy(db):
    """A patient whose medical history is current and clear."""
    patient = PatientFactory(first_name="Hana", last_name="Healthy")
    MedicalHistoryFactory(patient=patient, submitted_at=datetime(2026, 11, 1, tzinfo=LONDON))
    return patient


def history(patient, **changes):
    return MedicalHistoryFactory(
        patient=patient, submitted_at=datetime(2026, 11, 1, tzinfo=LONDON), **{**ALL_NO, **changes}
    )
