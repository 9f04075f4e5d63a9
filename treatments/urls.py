from django.urls import path

from treatments import views

app_name = "treatments"

urlpatterns = [
    path("catalog/", views.catalog, name="catalog"),
    path("stock/", views.stock, name="stock"),
    path("stock/receive/", views.lot_receive, name="lot_receive"),
]

urlpatterns += [
    path(
        "appointments/<int:appointment_pk>/consent/send/", views.consent_send, name="consent_send"
    ),
    path("consents/<int:pk>/", views.consent_record, name="consent_record"),
    path("consents/<int:pk>/signature.png", views.consent_signature_image, name="consent_image"),
    path("consents/<int:pk>/void/", views.consent_void, name="consent_void"),
    path("consent-forms/", views.consent_forms, name="consent_forms"),
    path(
        "consent-forms/<int:procedure_pk>/edit/", views.consent_form_edit, name="consent_form_edit"
    ),
    path("consent/<str:token>/", views.consent_link, name="consent_link"),
    path(
        "portal/appointments/<int:appointment_pk>/consent/",
        views.portal_consent,
        name="portal_consent",
    ),
]
