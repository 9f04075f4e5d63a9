from django.urls import path

from clinic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.security, name="security"),
    path("sessions/end/", views.sessions_end_others, name="sessions_end"),
    path("two-factor/", views.two_factor_verify, name="two_factor"),
    path("two-factor/verify/", views.two_factor_verify, name="verify"),
    path("two-factor/setup/", views.two_factor_setup, name="setup"),
    path("two-factor/codes/", views.two_factor_codes, name="codes"),
    path("two-factor/codes/new/", views.two_factor_new_codes, name="new_codes"),
    path("two-factor/off/", views.two_factor_off, name="off"),
    path("staff/", views.staff_security, name="staff"),
    path("staff/policy/", views.staff_policy, name="staff_policy"),
    path("staff/<int:pk>/two-factor/", views.staff_mark, name="staff_mark"),
    path("staff/<int:pk>/sessions/end/", views.staff_sessions_end, name="staff_sessions_end"),
]
