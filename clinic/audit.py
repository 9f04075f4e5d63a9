"""Recording reads of clinical information (writes: django-simple-history)."""

from clinic.access import client_ip
from clinic.models import AuditEvent


def log_view(request, *, what, obj=None, patient=None, action=AuditEvent.Action.VIEW):
    AuditEvent.objects.create(
        user=request.user,
        action=action,
        what=what,
        object_id=str(obj.pk) if obj is not None else "",
        patient=patient,
        path=request.get_full_path()[:300],
        ip_address=client_ip(request),
    )
