"""Who may open what: the decorators views use.

Actions are guarded by Django permissions (granted to roles in data
migrations); role landing pages by the role itself. Objects a user may not see
answer 404 through the `visible_to(user)` QuerySet methods, never 403, so an id
reveals nothing about records that exist.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(*roles):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not any(request.user.has_role(role) for role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def permission_required(*perms):
    """Like Django's, but logged-in users without the permission get a 403 page
    (not a login loop) and anonymous users go to the login page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def client_ip(request):
    """The client's address. Behind a proxy (BEHIND_PROXY=1) it is the last
    address in X-Forwarded-For: the one our own proxy saw; anything before it
    was written by the client and proves nothing."""
    from django.conf import settings

    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


def login_username(request, credentials=None):
    """The email a login attempt is for, as django-axes counts it: lower-cased,
    so that changing the case of the address does not start a new count."""
    raw = (credentials or {}).get("username")
    if raw is None:
        raw = request.POST.get("username", "") if request is not None else ""
    return raw.strip().lower() or None


def safe_next(request):
    """`?next=` when it points into this site, else None: never a redirect elsewhere."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else None
