"""The patient portal's addresses (no namespace: the names are the portal's)."""

from django.urls import path

from clinic.pages import portal

urlpatterns = [
    path("", portal.portal_home, name="portal_home"),
    path("book/", portal.portal_book, name="portal_book"),
    path("book/confirm/", portal.portal_book_confirm, name="portal_book_confirm"),
    path("appointments/<int:pk>/cancel/", portal.portal_cancel, name="portal_cancel"),
    path("appointments/<int:pk>/move/", portal.portal_move, name="portal_move"),
    path(
        "appointments/<int:pk>/earlier/",
        portal.portal_waitlist_earlier,
        name="portal_waitlist_earlier",
    ),
    path(
        "appointments/<int:pk>/move/confirm/",
        portal.portal_move_confirm,
        name="portal_move_confirm",
    ),
    path("waitlist/", portal.portal_waitlist, name="portal_waitlist"),
    path("waitlist/<int:pk>/remove/", portal.portal_waitlist_remove, name="portal_waitlist_remove"),
    path("history/", portal.portal_history, name="portal_history"),
    path("history/reconfirm/", portal.portal_history_reconfirm, name="portal_history_reconfirm"),
    path("texts/", portal.portal_texts, name="portal_texts"),
    path("treatments/<int:record_pk>/report/", portal.portal_report, name="portal_report"),
    path("reports/<int:pk>/", portal.portal_report_sent, name="portal_report_sent"),
]
