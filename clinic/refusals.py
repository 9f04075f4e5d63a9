"""Coded messages: the one type every refusal (and every flag) is written in.

A `Refusal` pairs a stable code with the message a person reads and, where
there is one, the form field the message belongs under. Services raise
`refusal.error(**params)`; forms put the message under `refusal.field`
(see `clinic.forms.ServiceForm`), so no code is ever a free string and the
wording lives next to the code that says it.

Codes are unique across the project: `REGISTRY` refuses a second, different
message under a code already taken (tests/test_refusals.py checks it).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

REGISTRY: dict[str, "Refusal"] = {}


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    field: str | None = None

    def __post_init__(self):
        taken = REGISTRY.get(self.code)
        if taken is not None and taken != self:
            raise ValueError(f"Refusal code {self.code!r} is already used for another message")
        REGISTRY[self.code] = self

    def text(self, **params) -> str:
        return self.message % params if params else self.message

    def error(self, **params) -> ValidationError:
        return ValidationError(self.message, code=self.code, params=params or None)

    def __str__(self):
        return self.message


def field_for(code: str | None) -> str | None:
    refusal = REGISTRY.get(code or "")
    return refusal.field if refusal else None


class Refused(ValidationError):
    """Every refusal of one check at once (the safety engine's findings: each
    has `.refusal`, `.params` and `.earliest`). `code` and `params` are the
    first refusal's, as for a single ValidationError; `earliest` is the first
    date that clears every refusal a date can clear."""

    def __init__(self, findings):
        findings = list(findings)
        super().__init__([f.refusal.error(**f.params) for f in findings])
        self.findings = findings
        self.code = findings[0].refusal.code
        dates = [f.earliest for f in findings if f.earliest]
        self.earliest = max(dates, default=None)
        self.params = {**findings[0].params, "earliest_date": self.earliest}
