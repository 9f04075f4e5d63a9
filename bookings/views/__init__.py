"""The bookings pages, a module per concern: the calendars, booking, one
appointment. `common` holds what they share."""

from bookings.views.appointment import (
    appointment_cancel,
    appointment_check_in,
    appointment_detail,
    appointment_move,
    appointment_move_chosen_time,
    appointment_move_confirm,
    appointment_no_show,
)
from bookings.views.booking import book_chosen_time, book_confirm, book_patient, book_start
from bookings.views.calendar import (
    day_calendar,
    practitioner_feed,
    practitioner_feed_reset,
    week_calendar,
)
from bookings.views.waitlist import waitlist_add, waitlist_edit, waitlist_list

__all__ = [
    "appointment_cancel",
    "appointment_check_in",
    "appointment_detail",
    "appointment_move",
    "appointment_move_chosen_time",
    "appointment_move_confirm",
    "appointment_no_show",
    "book_chosen_time",
    "book_confirm",
    "book_patient",
    "book_start",
    "day_calendar",
    "practitioner_feed",
    "practitioner_feed_reset",
    "waitlist_add",
    "waitlist_edit",
    "waitlist_list",
    "week_calendar",
]
