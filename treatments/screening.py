"""Screening a patient for a procedure: the latest history, its freshness, and
the pure rule (treatments.rules.screen). At most one query."""

from dataclasses import dataclass
from datetime import date

from clinic.models import MedicalHistory
from clinic.rules import HistoryState
from treatments.rules import Screening, screen

_UNLOADED = object()


@dataclass(frozen=True)
class PatientScreening:
    history: MedicalHistory | None
    history_state: HistoryState
    screening: Screening | None  # None when there is no history to screen

    @property
    def is_contraindicated(self):
        return self.screening is not None and self.screening.is_contraindicated


def screen_patient(*, patient, procedure, on: date, today: date, history=_UNLOADED):
    """Screen `patient` for `procedure` on the treatment date `on`.

    Pass `history` (the latest, or None) when it is already loaded, e.g. on a
    page screening one patient for several procedures.
    """
    if history is _UNLOADED:
        history = MedicalHistory.objects.latest_for(patient)
    screening = None
    if history is not None:
        screening = screen(
            answers=history, agents=procedure.agents, on=on, date_of_birth=patient.date_of_birth
        )
    return PatientScreening(
        history=history,
        history_state=MedicalHistory.state_of(history, today=today),
        screening=screening,
    )
