"""One way for a view to call a service outside a form: the service's refusal
becomes an error message (all of its messages), success a success message.
The view decides where to go next from what comes back."""

from typing import NamedTuple

from django.contrib import messages
from django.core.exceptions import ValidationError


class Called(NamedTuple):
    value: object
    refusal: ValidationError | None

    @property
    def ok(self):
        return self.refusal is None


def call_service(request, service, *, success="", **kwargs) -> Called:
    try:
        value = service(**kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return Called(None, exc)
    if success:
        messages.success(request, success)
    return Called(value, None)
