from django.contrib import admin

from clinic.admin import SingletonAdmin
from treatments.models import (
    KitLot,
    KitMedicine,
    KitSettings,
    Lot,
    Procedure,
    Product,
    ProductDose,
    SubstanceWindow,
)


class ProductDoseInline(admin.TabularInline):
    model = ProductDose
    extra = 0


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["name", "agent", "chair_minutes", "buffer_minutes", "is_active"]
    filter_horizontal = ["components"]
    inlines = [ProductDoseInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "code",
                    "summary",
                    "agent",
                    "components",
                    "is_active",
                    "online_booking",
                )
            },
        ),
        ("Time in the chair", {"fields": ("chair_minutes", "buffer_minutes")}),
        ("Pre-care window", {"fields": ("precare_min_days", "precare_recommended_days")}),
        (
            "Doses a session (single procedures)",
            {
                "description": "Toxin in Botox-equivalent units, filler in mL, added up over "
                "every product used in the session.",
                "fields": (
                    "dose_typical",
                    "dose_maximum",
                    "dose_line_ceiling",
                    "dose_session_ceiling",
                ),
            },
        ),
        (
            "After the visit",
            {
                "fields": (
                    "postcare_instructions",
                    "review_after_days",
                    "rebook_after_days_min",
                    "rebook_after_days_max",
                    "min_days_between",
                )
            },
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # appointments and records point at procedures: untick "offered" instead


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "brand",
        "agent",
        "unit",
        "units_per_botox_unit",
        "low_stock_threshold",
        "is_active",
    ]
    list_filter = ["agent", "brand"]
    inlines = [ProductDoseInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["lot_number", "product", "expiry_date", "quantity_remaining"]
    list_filter = ["product"]
    search_fields = ["lot_number"]
    readonly_fields = ["quantity_received", "quantity_remaining", "received_on", "received_by"]

    def has_add_permission(self, request):
        return False  # deliveries go through "Record a delivery", which checks them

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SubstanceWindow)
class SubstanceWindowAdmin(admin.ModelAdmin):
    """Longer pre-care windows for patients who take one blood thinner (many
    clinics ask 7 days for ibuprofen and other NSAIDs)."""

    list_display = ["substance", "min_days", "recommended_days"]


@admin.register(KitSettings)
class KitSettingsAdmin(SingletonAdmin):
    """How often the emergency kit is checked (weekly until a manager saves)."""

    fields = ["check_every_days", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(KitMedicine)
class KitMedicineAdmin(admin.ModelAdmin):
    """What the emergency kit holds. Deliveries and checks are on the
    Emergency kit page, which checks them."""

    list_display = ["name", "kind", "pack", "needed", "is_active"]
    list_filter = ["kind", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False  # checks and lots point at it: untick "in the kit" instead


@admin.register(KitLot)
class KitLotAdmin(LotAdmin):
    list_display = ["lot_number", "medicine", "expiry_date", "quantity_remaining"]
    list_filter = ["medicine"]
