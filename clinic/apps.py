from django.apps import AppConfig, apps
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models

OUR_APPS = ("clinic", "bookings", "treatments")


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic: people"

    def ready(self):
        refuse_null_characters()
        # The kinds of message this layer writes, registered with the outbox.
        import clinic.messages  # noqa: F401


def refuse_null_characters():
    """Every text field of ours refuses NUL characters in full_clean().

    Django's form fields already do; model fields do not, and PostgreSQL
    cannot store NUL in text, so a service called with one would fail at the
    database instead of answering with a message."""
    validator = ProhibitNullCharactersValidator(
        message="Remove the invisible control character (NUL) from this text."
    )
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.CharField | models.TextField):
                # Set the cached `validators` list, not `_validators`: the
                # latter is part of the field's deconstruction, so changing
                # it would make every migration out of date.
                existing = field.validators
                if not any(isinstance(v, ProhibitNullCharactersValidator) for v in existing):
                    field.__dict__["validators"] = [*existing, validator]
