from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.shortcuts import redirect
from django.urls import reverse

from clinic.models import OnlineBookingSettings, Patient, Practitioner, User


class VermilionUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class VermilionUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PractitionerInline(admin.StackedInline):
    model = Practitioner
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = VermilionUserChangeForm
    add_form = VermilionUserCreationForm
    ordering = ["full_name"]
    list_display = ["full_name", "email", "role_names", "is_active", "last_login"]
    list_filter = ["groups", "is_active", "is_staff"]
    search_fields = ["full_name", "email"]
    inlines = [PractitionerInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Role and access", {"fields": ("is_active", "is_staff", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    filter_horizontal = ["groups"]

    @admin.display(description="Roles")
    def role_names(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "profession",
        "regulator",
        "registration_number",
        "independent_prescriber",
        "is_active",
    ]
    list_filter = ["is_active", "profession", "independent_prescriber"]
    search_fields = ["display_name", "user__email"]
    autocomplete_fields = ["user"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "phone", "email"]
    search_fields = ["search_text"]
    readonly_fields = ["created_at", "created_by", "updated_at"]
    exclude = ["search_text"]
    autocomplete_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False  # clinical records are kept for years; patients are never deleted


class SingletonAdmin(admin.ModelAdmin):
    """One page, no list, for a one-row settings model with `current()`:
    the saved row, or the defaults until a manager saves it."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[1]))

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) != "1":
            return None
        return self.model.current()


@admin.register(OnlineBookingSettings)
class OnlineBookingSettingsAdmin(SingletonAdmin):
    """The settings row (written from the environment by migration
    clinic/0016, or shown from it until saved). Which procedures and
    practitioners are booked online is a tick on each of them."""

    fields = ["new_patients", "days_ahead", "min_notice_hours", "updated_at"]
    readonly_fields = ["updated_at"]
