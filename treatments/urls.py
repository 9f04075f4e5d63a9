from django.urls import path

from treatments import tablet, views

app_name = "treatments"

urlpatterns = [
    path("catalog/", views.catalog, name="catalog"),
    path("stock/", views.stock, name="stock"),
    path("stock/receive/", views.lot_receive, name="lot_receive"),
    path("kit/", views.kit, name="kit"),
    path("kit/receive/", views.kit_receive, name="kit_receive"),
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

urlpatterns += [
    path("appointments/<int:appointment_pk>/same-day/", views.same_day_check, name="same_day"),
    path("appointments/<int:appointment_pk>/treatment/", views.record_start, name="record_start"),
    path("treatments/<int:pk>/", views.record_detail, name="record"),
    path("treatments/<int:pk>/save/", views.record_save, name="record_save"),
    path("treatments/<int:pk>/lines/", views.record_line_add, name="record_line_add"),
    path(
        "treatments/<int:pk>/lines/<int:line_pk>/remove/",
        views.record_line_remove,
        name="record_line_remove",
    ),
    path("treatments/<int:pk>/sign/", views.record_sign, name="record_sign"),
    path("treatments/<int:pk>/addenda/", views.record_addendum, name="record_addendum"),
    path(
        "treatments/<int:pk>/complications/new/",
        views.complication_new,
        name="complication_new",
    ),
    path("complications/", views.complications_overview, name="complications"),
    path("complications/<int:pk>/", views.complication, name="complication"),
    path("complications/<int:pk>/steps/", views.complication_step, name="complication_step"),
    path("complications/<int:pk>/sign/", views.complication_sign, name="complication_sign"),
    path(
        "complications/<int:pk>/summary/", views.complication_summary, name="complication_summary"
    ),
    path(
        "complications/<int:pk>/reported/",
        views.complication_reported,
        name="complication_reported",
    ),
    path(
        "complications/<int:pk>/check-ins/<int:check_in_pk>/done/",
        views.check_in_done,
        name="check_in_done",
    ),
    path("patients/<int:patient_pk>/chart/", views.patient_chart, name="chart"),
    path("patients/<int:patient_pk>/prescriptions/", views.prescriptions, name="prescriptions"),
    path("prescriptions/<int:pk>/", views.prescription_detail, name="prescription"),
    path(
        "prescriptions/<int:pk>/withdraw/",
        views.prescription_withdraw,
        name="prescription_withdraw",
    ),
    path("stock/recall/", views.lot_recall, name="recall"),
]

urlpatterns += [
    path("report/<str:token>/", views.report_link, name="report_link"),
    path("report/<str:token>/sent/", views.report_link_sent, name="report_link_sent"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
]

urlpatterns += [
    path("appointments/<int:appointment_pk>/tablet/", tablet.tablet_start, name="tablet_start"),
    path("tablet/", tablet.tablet_sign, name="tablet_sign"),
    path("tablet/locked/", tablet.tablet_locked, name="tablet_locked"),
]

# Clinical photos (issue 19): the bytes only through these checked views.
urlpatterns += [
    path("appointments/<int:appointment_pk>/photos/", views.appointment_photos, name="photos"),
    path(
        "appointments/<int:appointment_pk>/photos/upload/",
        views.photo_upload,
        name="photo_upload",
    ),
    path("patients/<int:patient_pk>/photos/", views.photo_compare, name="photo_compare"),
    path("photos/<int:pk>/photo.jpg", views.photo_image, name="photo_image"),
    path("photos/<int:pk>/thumbnail.jpg", views.photo_thumbnail, name="photo_thumbnail"),
]

# Photo consent (issue 19): signed on the portal or on the clinic's tablet.
urlpatterns += [
    path("patients/<int:patient_pk>/photo-consent/", views.photo_consent, name="photo_consent"),
    path(
        "patients/<int:patient_pk>/photo-consent/withdraw/",
        views.photo_consent_withdraw,
        name="photo_consent_withdraw",
    ),
    path("portal/photo-consent/", views.portal_photo_consent, name="portal_photo_consent"),
    path(
        "portal/photo-consent/withdraw/",
        views.portal_photo_consent_withdraw,
        name="portal_photo_consent_withdraw",
    ),
    path("photos/library/", views.photo_library, name="photo_library"),
]
