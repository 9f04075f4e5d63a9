"""What the layers above bookings show on its pages, without bookings
importing them (imports run one way: docs/ARCHITECTURE.md).

The clinical records (consent, treatment records) register, once at start-up
(TreatmentsConfig.ready), how they mark a list of appointments (the calendars'
consent badges) and what they add to one appointment's page (its consent and
its treatment record). With nothing registered, the pages still work: they
show the bookings alone."""

from collections.abc import Callable

# (appointments, *, now) -> None: sets attributes on each (e.g. `.consent`).
_list_marks: list[Callable] = []
# (appointment, *, now) -> dict: context for the appointment page.
_detail_parts: list[Callable] = []


def on_appointment_lists(mark: Callable) -> Callable:
    if mark not in _list_marks:
        _list_marks.append(mark)
    return mark


def on_appointment_page(part: Callable) -> Callable:
    if part not in _detail_parts:
        _detail_parts.append(part)
    return part


def mark_list(appointments, *, now):
    appointments = list(appointments)
    for mark in _list_marks:
        mark(appointments, now=now)
    return appointments


def page_parts(appointment, *, now) -> dict:
    context = {}
    for part in _detail_parts:
        context.update(part(appointment, now=now))
    return context
