from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required to create a user.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields.get("is_staff") is not True:
            raise ValueError("A superuser must have is_staff=True.")
        if extra_fields.get("is_superuser") is not True:
            raise ValueError("A superuser must have is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in: staff of every role and patients with a portal account.

    People sign in with their email address. What a user may do comes from
    their groups (see clinic/roles.py); `is_staff` only opens the Django admin.
    """

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    is_staff = models.BooleanField(
        _("admin access"),
        default=False,
        help_text=_("Can log in to the Django admin. Give it to managers only."),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Untick instead of deleting: the person can no longer log in."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def roles(self):
        """The user's roles, in the order Role lists them. Cached per instance."""
        if not hasattr(self, "_roles"):
            names = set(self.groups.values_list("name", flat=True))
            roles = [role for role in Role if role.value in names]
            if self.is_superuser and Role.MANAGER not in roles:
                roles.append(Role.MANAGER)
            self._roles = roles
        return self._roles

    def has_role(self, role):
        return role in self.roles

    @property
    def primary_role(self):
        return self.roles[0] if self.roles else None


hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # followed by six hex digits, e.g. #b8325a.")
)


class PractitionerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, user__is_active=True)


class Practitioner(models.Model):
    """The clinical side of a user who injects: how they appear on the calendar."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="practitioner")
    display_name = models.CharField(_("display name"), max_length=80)
    credentials = models.CharField(
        _("credentials"),
        max_length=120,
        blank=True,
        help_text=_("Shown on treatment records, e.g. 'RN, NMC 12A3456B' or 'Dr, GMC 7654321'."),
    )
    colour = models.CharField(
        _("calendar colour"), max_length=7, default="#b8325a", validators=[hex_colour]
    )
    is_active = models.BooleanField(
        _("taking bookings"),
        default=True,
        help_text=_("Untick when the practitioner leaves; their records stay."),
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name
