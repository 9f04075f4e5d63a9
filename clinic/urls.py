from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from bookings import views as booking_views
from clinic import outbox_views, views
from clinic.accounts import views as account_views
from clinic.forms import LoginForm

urlpatterns = [
    path("", include("clinic.pages.landing_urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path(
        "accounts/password_reset/",
        account_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password_change/",
        account_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/", include("clinic.accounts.urls")),
    path("", include("clinic.privacy.urls")),
    path("patients/<int:patient_pk>/texts/", outbox_views.patient_texts, name="patient_texts"),
    path("sms/inbound/", outbox_views.sms_inbound, name="sms_inbound"),
    path("emails/", outbox_views.outbox, name="outbox"),
    path("portal/", include("clinic.pages.portal_urls")),
    path("book-online/", include("clinic.pages.online_urls")),
    path(
        "portal/welcome/<uidb64>/<token>/",
        # Choosing the password logs the patient in: straight to the portal.
        auth_views.PasswordResetConfirmView.as_view(
            template_name="clinic/portal_welcome.html",
            success_url=reverse_lazy("portal_home"),
            post_reset_login=True,
            post_reset_login_backend="django.contrib.auth.backends.ModelBackend",
        ),
        name="portal_welcome",
    ),
    path(
        "portal/welcome/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="clinic/portal_welcome_done.html"
        ),
        name="portal_welcome_done",
    ),
    path(
        "calendar/feed/<str:token>.ics", booking_views.practitioner_feed, name="practitioner_feed"
    ),
    path(
        "practice/feed/reset/",
        booking_views.practitioner_feed_reset,
        name="practitioner_feed_reset",
    ),
    path("patients/<int:pk>/invite/", views.patient_invite, name="patient_invite"),
    path("patients/", include("clinic.patient_urls")),
    path("", include("treatments.urls")),
    path("", include("bookings.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "clinic.views.bad_request"
