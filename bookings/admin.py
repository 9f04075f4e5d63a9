from django.contrib import admin

from bookings.models import Appointment, AppointmentEvent, ScheduleException, TimeOff, WorkingHours


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["__str__", "practitioner", "weekday", "starts", "ends"]
    list_filter = ["practitioner", "weekday"]


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(admin.ModelAdmin):
    list_display = ["date", "practitioner", "starts", "ends", "reason"]
    list_filter = ["practitioner"]
    date_hierarchy = "date"


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "starts_at", "ends_at", "reason"]
    list_filter = ["practitioner"]


class AppointmentEventInline(admin.TabularInline):
    model = AppointmentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "at", "by", "details"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Read-only: bookings change through the front-desk pages, which apply
    the pre-care window and the overlap checks."""

    list_display = ["starts_at", "patient", "practitioner", "procedure", "status"]
    list_filter = ["status", "practitioner", "procedure"]
    date_hierarchy = "starts_at"
    search_fields = ["patient__search_text"]
    inlines = [AppointmentEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
