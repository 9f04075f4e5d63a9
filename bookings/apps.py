from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        # The kinds of message this layer writes, registered with the outbox.
        import bookings.messages  # noqa: F401
