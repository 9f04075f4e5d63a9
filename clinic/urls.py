from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import views
from clinic.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("desk/", views.desk_home, name="desk_home"),
    path("practice/", views.practitioner_home, name="practitioner_home"),
    path("manage/", views.manager_home, name="manager_home"),
    path("portal/", views.portal_home, name="portal_home"),
    path("manage/audit/", views.audit_log, name="audit_log"),
    path("portal/history/", views.portal_history, name="portal_history"),
    path(
        "portal/history/reconfirm/",
        views.portal_history_reconfirm,
        name="portal_history_reconfirm",
    ),
    path("patients/", include("clinic.patient_urls")),
    path("", include("treatments.urls")),
    path("", include("bookings.urls")),
    path("admin/", admin.site.urls),
]
