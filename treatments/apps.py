from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments"

    def ready(self):
        # The kinds of message this layer writes, registered with the outbox.
        import treatments.messages  # noqa: F401
