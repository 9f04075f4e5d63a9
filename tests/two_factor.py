"""Logging in with a second factor, for tests."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_for(device, *, offset=0):
    """The code the app would show (offset in 30-second steps)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=offset):06d}"


def verified_login(client, user):
    """Log in as someone who has given a code from their app."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or enrol(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
