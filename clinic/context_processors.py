from django.conf import settings
from django.utils import timezone


def clinic(request):
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_OUT_OF_HOURS_PHONE": settings.CLINIC_OUT_OF_HOURS_PHONE,
        "clinic_today": timezone.localdate(),
    }
