"""Refusals are values: every message a service refuses with is a Refusal
(code, message, field), codes are unique, and forms put each under its field."""

import importlib

import pytest
from django import forms

from clinic.forms import ServiceForm
from clinic.refusals import REGISTRY, Refusal

MODULES = [
    "bookings.services",
    "clinic.services",
    "treatments.services",
    "treatments.signature",
    "treatments.safety.engine",
]


@pytest.mark.parametrize("name", MODULES)
def test_no_message_is_a_free_string(name):
    module = importlib.import_module(name)
    loose = [
        attr
        for attr, value in vars(module).items()
        if attr.isupper() and isinstance(value, str) and value.rstrip().endswith((".", "?"))
    ]
    assert loose == [], f"make these Refusal(code, message) in {name}"


def test_a_code_names_one_message():
    assert all(refusal.code == code for code, refusal in REGISTRY.items())
    Refusal("test_only_code", "One message.")
    with pytest.raises(ValueError, match="already used"):
        Refusal("test_only_code", "Another message.")


def test_a_refusal_lands_under_its_field():
    class Form(ServiceForm):
        amount = forms.DecimalField()

    refusal = Refusal("test_only_field", "Too much: %(n)s.", field="amount")
    form = Form({"amount": "1"})
    assert form.is_valid()
    form.apply_service_error(refusal.error(n=3))
    assert form.errors == {"amount": ["Too much: 3."]}


def test_call_service_turns_a_refusal_into_a_message(rf):
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    from clinic.flash import call_service

    request = rf.post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    refusal = Refusal("test_only_flash", "Not today.")

    def refuse():
        raise refusal.error()

    called = call_service(request, refuse, success="Done.")
    assert (called.ok, called.refusal.code) == (False, "test_only_flash")
    called = call_service(request, lambda: 42, success="Done.")
    assert (called.ok, called.value) == (True, 42)
    assert [str(m) for m in get_messages(request)] == ["Not today.", "Done."]
