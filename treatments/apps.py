from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments"

    def ready(self):
        # The kinds of message this layer writes, registered with the outbox.
        import treatments.messages  # noqa: F401

        # Consent badges on the calendars, consent and record on the
        # appointment page: bookings shows them without importing us.
        from bookings import extensions
        from treatments.consent import appointment_page_part, attach_consent

        extensions.on_appointment_lists(attach_consent)
        extensions.on_appointment_page(appointment_page_part)
