from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from clinic.roles import Role


class VermilionAdminSite(admin.AdminSite):
    site_header = "Vermilion administration"
    site_title = "Vermilion admin"
    index_title = "Clinic set-up"

    def has_permission(self, request):
        # Admin access needs both the flag and the Manager role, so a front-desk
        # account given is_staff by mistake still cannot open the admin.
        user = request.user
        return user.is_active and user.is_staff and user.has_role(Role.MANAGER)

    def admin_view(self, view, cacheable=False):
        """Every change page opened is an audited read, like the clinic's own
        pages: the admin shows patients, histories and records too."""
        inner = super().admin_view(view, cacheable)
        model_admin = getattr(view, "__self__", None)
        if getattr(view, "__name__", "") != "change_view" or model_admin is None:
            return inner

        @wraps(inner)
        def audited(request, object_id, *args, **kwargs):
            response = inner(request, object_id, *args, **kwargs)
            if request.method == "GET" and response.status_code == 200:
                _log_admin_read(request, model_admin.model, object_id)
            return response

        return audited


def _log_admin_read(request, model, object_id):
    from clinic.audit import log_view
    from clinic.models import Patient

    patient_id = None
    if model is Patient:
        patient_id = object_id
    elif any(field.name == "patient" for field in model._meta.fields):
        patient_id = model._default_manager.filter(pk=object_id).values("patient_id").first()
        patient_id = patient_id and patient_id["patient_id"]
    log_view(
        request,
        what=f"admin: {model._meta.verbose_name}"[:60],
        object_id=str(object_id)[:40],
        patient=Patient.objects.filter(pk=patient_id).first() if patient_id else None,
    )


class VermilionAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.VermilionAdminSite"
