from django.urls import path

from bookings import views

app_name = "bookings"

urlpatterns = [
    path("calendar/", views.day_calendar, name="day"),
    path("calendar/week/", views.week_calendar, name="week"),
    path("book/", views.book_start, name="book"),
    path("book/<int:patient_pk>/", views.book_patient, name="book_patient"),
    path("book/<int:patient_pk>/time/", views.book_chosen_time, name="book_chosen_time"),
    path("book/<int:patient_pk>/confirm/", views.book_confirm, name="book_confirm"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/move/", views.appointment_move, name="move"),
    path(
        "appointments/<int:pk>/move/time/",
        views.appointment_move_chosen_time,
        name="move_chosen_time",
    ),
    path(
        "appointments/<int:pk>/move/confirm/", views.appointment_move_confirm, name="move_confirm"
    ),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/check-in/", views.appointment_check_in, name="check_in"),
    path("appointments/<int:pk>/no-show/", views.appointment_no_show, name="no_show"),
    path("waitlist/", views.waitlist_list, name="waitlist"),
    path("waitlist/<int:pk>/", views.waitlist_edit, name="waitlist_edit"),
    path("waitlist/add/<int:patient_pk>/", views.waitlist_add, name="waitlist_add"),
]
