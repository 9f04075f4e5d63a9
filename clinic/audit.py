"""Recording reads of clinical information (writes: django-simple-history)."""

from clinic.access import client_ip
from clinic.models import AuditEvent


def log_view(
    request,
    *,
    what,
    obj=None,
    patient=None,
    action=AuditEvent.Action.VIEW,
    object_id=None,
    user=None,
):
    """One AuditEvent for this request. `user` is for reads made without a
    login (a practitioner's calendar feed is read by its owner's address)."""
    AuditEvent.objects.create(
        user=user or request.user,
        action=action,
        what=what,
        object_id=object_id if object_id is not None else (str(obj.pk) if obj is not None else ""),
        patient=patient,
        path=request.get_full_path()[:300],
        ip_address=client_ip(request),
    )
