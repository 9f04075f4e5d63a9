"""Texts (SMS): phone numbers in E.164 and the transports that send them.

A transport is chosen by the SMS_BACKEND setting, as EMAIL_BACKEND chooses
Django's mail backend: the console (development: the text is printed), a
file (development and tests: one file per text in SMS_FILE_PATH), or
Twilio, through its official library, in production (TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TWILIO_FROM). Replies come back to the inbound webhook
(clinic.outbox_views.sms_inbound), whose Twilio signature is checked.
"""

import sys
import time
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from clinic import phones


def to_e164(text, *, region=None):
    """The number in E.164 (+447700900123), or None if a text cannot reach
    it (clinic.phones, strict: the number must be assigned)."""
    return phones.to_e164(text, region=region, valid=True)


class ConsoleBackend:
    def send(self, *, to, body):
        sys.stdout.write(f"SMS to {to}:\n{body}\n{'-' * 40}\n")


class FileBackend:
    def send(self, *, to, body):
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{time.time_ns()}-{to.lstrip('+')}.txt").write_text(f"To: {to}\n\n{body}")


class TwilioBackend:
    def send(self, *, to, body):
        from twilio.rest import Client

        client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        client.messages.create(to=to, from_=settings.TWILIO_FROM, body=body)


def send(*, to, body):
    import_string(settings.SMS_BACKEND)().send(to=to, body=body)


def inbound_is_genuine(request):
    """Whether an inbound webhook call really comes from the provider: with
    Twilio, its X-Twilio-Signature over the URL and the POST parameters."""
    if settings.SMS_BACKEND != "clinic.sms.TwilioBackend":
        return settings.DEBUG  # development backends have no provider to call us
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    url = settings.SITE_URL + request.get_full_path()
    return validator.validate(
        url, request.POST.dict(), request.headers.get("X-Twilio-Signature", "")
    )
