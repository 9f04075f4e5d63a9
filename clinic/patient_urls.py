from django.urls import path

from clinic import views
from clinic.pages import patient

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", patient.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/history/", views.history_detail, name="history"),
    path("<int:pk>/history/new/", views.history_new, name="history_new"),
    path("<int:pk>/history/reconfirm/", views.history_reconfirm, name="history_reconfirm"),
    path("<int:pk>/history/<int:history_pk>/", views.history_detail, name="history_version"),
]
