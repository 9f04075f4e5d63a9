from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinic.accounts"
    label = "accounts"
    verbose_name = "Accounts: sessions and two-factor login"

    def ready(self):
        from clinic.accounts import signals  # noqa: F401 (connects the receivers)
