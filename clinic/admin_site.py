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


class VermilionAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.VermilionAdminSite"
