"""Phone numbers: kept in E.164 (+447700900123), read with phonenumbers.

phonenumbers is Google's libphonenumber for Python, kept up to date with
every country's numbering plan; writing those rules by hand would go stale.

Two strengths of check:
- a patient's phone (`to_e164`): the number must be valid, or at least the
  right length and shape for a mobile or landline of its country. That
  accepts the fictional numbers Ofcom reserves for drama and demos
  (07700 900xxx), which staff type in training, while still refusing "12",
  a date or a typo of four digits.
- a number for texts (`to_e164(..., valid=True)`): the number must be
  *valid*, i.e. assigned to a real range, since a provider would refuse it.

A number is written without its country (07700 900123) when it is in the
clinic's own country (PHONE_REGION), and in international form otherwise.
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from clinic.refusals import Refusal

PHONE_INVALID = Refusal(
    "phone_invalid",
    "That does not look like a phone number. Give it with its area or mobile code, "
    "e.g. 07700 900123 or +44 7700 900123.",
    field="phone",
)


def parse(text, *, region=None):
    """The number as phonenumbers reads it, or None."""
    text = (text or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        return phonenumbers.parse(text, region or settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None


def to_e164(text, *, region=None, valid=False):
    """`text` in E.164, or None when it is not a phone number (with
    `valid=True`: not one a text can reach)."""
    number = parse(text, region=region)
    if number is None:
        return None
    if not (phonenumbers.is_valid_number(number) or (not valid and _callable_shape(number))):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _callable_shape(number):
    """Right length and shape for a mobile or a landline of its country
    (phonenumbers' 'possible' alone also admits short local-only numbers)."""
    possible = phonenumbers.ValidationResult.IS_POSSIBLE
    return any(
        phonenumbers.is_possible_number_for_type_with_reason(number, kind) == possible
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    )


def display(text):
    """How a number is shown: '07700 900123' at home, '+33 6 12 34 56 78'
    from abroad; anything unreadable exactly as it was typed."""
    if not (text or "").startswith("+"):
        return text or ""
    number = parse(text)
    if number is None:
        return text
    home = phonenumbers.country_code_for_region(settings.PHONE_REGION)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def is_readable(text):
    return to_e164(text) is not None


def digits(text):
    return re.sub(r"\D", "", text or "")


def search_digits(text):
    """The digits a search may be typed with: the international ones
    (447700900123) and, for a readable number, the national ones
    (07700900123), so '07700 900123', '+44 7700 900123' and '900123' all find
    it."""
    number = parse(text) if (text or "").startswith("+") else None
    if number is None:
        return digits(text)
    national = digits(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    international = digits(text)
    return international if national == international else f"{international} {national}"


@deconstructible
class PhoneValidator:
    """A model/form validator: the value must be a possible phone number."""

    def __call__(self, value):
        if to_e164(value) is None:
            raise ValidationError(PHONE_INVALID.message, code=PHONE_INVALID.code)

    def __eq__(self, other):
        return isinstance(other, PhoneValidator)
