"""The treatments pages, a module per concern: stock (the catalog layer),
consent, prescriptions, records and patients' problem reports (the clinical
records)."""

from treatments.views.complications import (
    check_in_done,
    complication,
    complication_new,
    complication_reported,
    complication_sign,
    complication_step,
    complication_summary,
)
from treatments.views.consent import (
    consent_form_edit,
    consent_forms,
    consent_link,
    consent_record,
    consent_send,
    consent_signature_image,
    consent_void,
    portal_consent,
)
from treatments.views.kit import kit, kit_receive, kit_status
from treatments.views.photos import (
    appointment_photos,
    photo_image,
    photo_thumbnail,
    photo_upload,
)
from treatments.views.prescriptions import (
    prescription_detail,
    prescription_withdraw,
    prescriptions,
)
from treatments.views.records import (
    lot_recall,
    patient_chart,
    record_addendum,
    record_detail,
    record_line_add,
    record_line_remove,
    record_save,
    record_sign,
    record_start,
    same_day_check,
)
from treatments.views.reports import (
    report_detail,
    report_link,
    report_link_sent,
    report_page,
    report_sent_page,
    reports,
)
from treatments.views.stock import catalog, lot_receive, stock, stock_filters

__all__ = [
    "catalog",
    "check_in_done",
    "complication",
    "complication_new",
    "complication_reported",
    "complication_sign",
    "complication_step",
    "complication_summary",
    "consent_form_edit",
    "consent_forms",
    "consent_link",
    "consent_record",
    "consent_send",
    "consent_signature_image",
    "consent_void",
    "kit",
    "kit_receive",
    "kit_status",
    "lot_recall",
    "lot_receive",
    "patient_chart",
    "appointment_photos",
    "photo_image",
    "photo_thumbnail",
    "photo_upload",
    "portal_consent",
    "prescription_detail",
    "prescription_withdraw",
    "prescriptions",
    "record_addendum",
    "record_detail",
    "record_line_add",
    "record_line_remove",
    "record_save",
    "record_sign",
    "record_start",
    "report_detail",
    "report_link",
    "report_link_sent",
    "report_page",
    "report_sent_page",
    "reports",
    "same_day_check",
    "stock",
    "stock_filters",
]
