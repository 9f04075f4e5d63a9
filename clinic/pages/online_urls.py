"""The public booking page's addresses: no login (see clinic.pages.online)."""

from django.urls import path

from clinic.pages import online

urlpatterns = [
    path("", online.online_book, name="online_book"),
    path("details/", online.online_details, name="online_details"),
    path("check-email/", online.online_check_email, name="online_check_email"),
    path("verify/<str:token>/", online.online_verify, name="online_verify"),
    path("history/", online.online_history, name="online_history"),
    path("confirm/", online.online_confirm, name="online_confirm"),
    path("done/", online.online_done, name="online_done"),
    path("done/appointment.ics", online.online_ics, name="online_ics"),
    path("done/earlier/", online.online_waitlist_earlier, name="online_waitlist_earlier"),
    path("waitlist/<str:token>/", online.online_waitlist_claim, name="online_waitlist_claim"),
]
