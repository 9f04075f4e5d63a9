"""The landing pages' addresses: where each role starts, and the manager's
dashboard with the lists behind it."""

from django.urls import path

from clinic.pages import audit, landing

urlpatterns = [
    path("", landing.home, name="home"),
    path("desk/", landing.desk_home, name="desk_home"),
    path("practice/", landing.practitioner_home, name="practitioner_home"),
    path("manage/", landing.manager_home, name="manager_home"),
    path("manage/appointments/", landing.manager_appointments, name="manager_appointments"),
    path("manage/audit/", audit.audit_log, name="audit_log"),
]
