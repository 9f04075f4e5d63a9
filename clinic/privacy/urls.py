from django.urls import path

from clinic.privacy import views

app_name = "privacy"

urlpatterns = [
    path("portal/my-data/", views.portal_data, name="portal_data"),
    path("patients/<int:pk>/export/", views.patient_data_export, name="patient_export"),
    path("patients/<int:pk>/erasure/", views.patient_erasure, name="patient_erasure"),
]
