from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserSessionQuerySet(models.QuerySet):
    def of(self, user):
        return self.filter(user=user).order_by("-created_at")


class UserSession(models.Model):
    """Which session belongs to whom. Django's session table keeps the user
    inside an encoded blob; this index is what lets a user see and end their
    sessions, and a disabled account lose all of them for good."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions"
    )
    created_at = models.DateTimeField(_("logged in"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_session_user")]

    def __str__(self):
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class Attempt(models.Model):
    """One counted try at something that could be guessed or abused: a wrong
    answer on a consent link, a wrong signing password, a password-reset
    request. Kept in the database, like sessions, so every app server counts
    the same tries."""

    class Kind(models.TextChoices):
        CONSENT_LINK = "consent_link", _("wrong details on a consent link")
        SIGN_PASSWORD = "sign_password", _("wrong password when signing")
        RESET_EMAIL = "reset_email", _("password reset asked for an email")
        RESET_ADDRESS = "reset_address", _("password reset asked from an address")
        BOOK_EMAIL = "book_email", _("online booking asked for an email")
        BOOK_ADDRESS = "book_address", _("online booking asked from an address")
        VERIFY_ADDRESS = "verify_address", _("a bad online-booking link from an address")
        CONFIRM_ADDRESS = "confirm_address", _("an online booking confirmed from an address")
        REPORT_LINK = "report_link", _("a bad problem-report link from an address")

    kind = models.CharField(max_length=20, choices=Kind)
    key = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "at"], name="accounts_attempt_lookup")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.key}) at {self.at:%Y-%m-%d %H:%M}"


class TwoFactorPolicy(models.Model):
    """The clinic's one row: whether every staff member must use a second
    factor (an authenticator app). Managers switch it on the Staff security page."""

    all_staff = models.BooleanField(_("required for all staff"), default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("two-factor policy")

    def __str__(self):
        return "Required for all staff" if self.all_staff else "Required where marked"

    @classmethod
    def current(cls):
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class TwoFactorRequirement(models.Model):
    """A person a manager has marked: they must use a second factor."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_requirement"
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user} must use two-factor login"
