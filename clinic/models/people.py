"""People who work at the clinic: staff logins (email as the login) and
practitioners, with what they may prescribe and how they show on the calendar."""

import secrets

from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    Group,
    Permission,
    PermissionsMixin,
)
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.phones import to_e164
from clinic.roles import Role

ONLINE_BOOKING_EMAIL = "online-booking@vermilion.invalid"
_TEXT = CharField()


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

    def online_booking(self):
        """Who books for a patient booking online without a portal login
        (holds, then their booking): a login nobody can use."""
        user, created = self.get_or_create(
            email=ONLINE_BOOKING_EMAIL,
            defaults={"full_name": "Online booking", "is_active": False},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

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
            self._load_access()
        return self._roles

    def _load_access(self):
        """Roles and permissions in one query: a UNION of the user's group
        names, their own permissions and their groups' permissions. Every
        logged-in page reads the roles first (clinic.middleware), so the
        permission checks after it find Django's ModelBackend caches
        (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache`) filled,
        rather than asking two more queries of their own. A superuser's
        permissions are every permission: ModelBackend still works those out."""
        label = Concat("content_type__app_label", Value("."), "codename", output_field=_TEXT)
        rows = (
            Group.objects.filter(user=self)
            .annotate(kind=Value("group", output_field=_TEXT), value=F("name"))
            .values_list("kind", "value")
            .order_by()
            .union(
                Permission.objects.filter(user=self)
                .annotate(kind=Value("own", output_field=_TEXT), value=label)
                .values_list("kind", "value")
                .order_by(),
                Permission.objects.filter(group__user=self)
                .annotate(kind=Value("via_group", output_field=_TEXT), value=label)
                .values_list("kind", "value")
                .order_by(),
                all=True,
            )
        )
        found = {"group": set(), "own": set(), "via_group": set()}
        for kind, value in rows:
            found[kind].add(value)
        roles = [role for role in Role if role.value in found["group"]]
        if self.is_superuser and Role.MANAGER not in roles:
            roles.append(Role.MANAGER)
        self._roles = roles
        if not self.is_superuser:
            self._user_perm_cache = found["own"]
            self._group_perm_cache = found["via_group"]
            self._perm_cache = found["own"] | found["via_group"]

    def has_role(self, role):
        return role in self.roles

    @property
    def primary_role(self):
        return self.roles[0] if self.roles else None


hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # followed by six hex digits, e.g. #b8325a.")
)


def new_feed_token():
    return secrets.token_urlsafe(32)


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

    class Profession(models.TextChoices):
        DOCTOR = "doctor", _("Doctor")
        DENTIST = "dentist", _("Dentist")
        NURSE = "nurse", _("Nurse")
        PHARMACIST = "pharmacist", _("Pharmacist")
        OTHER = "other", _("Other (not a registered healthcare professional)")

    class Regulator(models.TextChoices):
        GMC = "GMC", _("GMC (doctors)")
        GDC = "GDC", _("GDC (dentists)")
        NMC = "NMC", _("NMC (nurses)")
        GPHC = "GPhC", _("GPhC (pharmacists)")
        NONE = "", _("None")

    profession = models.CharField(_("profession"), max_length=12, choices=Profession, blank=True)
    regulator = models.CharField(_("regulator"), max_length=4, choices=Regulator, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=20, blank=True)
    independent_prescriber = models.BooleanField(
        _("independent prescriber"),
        default=False,
        help_text=_(
            "A doctor or dentist, or a nurse or pharmacist independent prescriber: may "
            "assess patients and prescribe prescription-only medicines such as toxin."
        ),
    )
    colour = models.CharField(
        _("calendar colour"), max_length=7, default="#b8325a", validators=[hex_colour]
    )
    is_active = models.BooleanField(
        _("taking bookings"),
        default=True,
        help_text=_("Untick when the practitioner leaves; their records stay."),
    )
    online_booking = models.BooleanField(
        _("patients may book them online"),
        default=True,
        help_text=_("Untick to take bookings for them at the desk only."),
    )
    feed_token = models.CharField(
        _("calendar feed key"),
        max_length=43,
        default=new_feed_token,
        unique=True,
        help_text=_("The secret part of the practitioner's calendar feed address."),
    )
    alert_phone = models.CharField(
        _("mobile for urgent alerts"),
        max_length=20,
        blank=True,
        help_text=_(
            "Texted at any hour when a patient they treated reports a red flag (e.g. a change "
            "in sight). Blank: the alert goes by email only."
        ),
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    def clean(self):
        if self.independent_prescriber and self.profession not in (
            self.Profession.DOCTOR,
            self.Profession.DENTIST,
            self.Profession.NURSE,
            self.Profession.PHARMACIST,
        ):
            raise ValidationError(
                {
                    "independent_prescriber": _(
                        "Only a doctor, dentist, nurse or pharmacist prescribes."
                    )
                }
            )
        if self.registration_number and not self.regulator:
            raise ValidationError({"regulator": _("Say which regulator the number is with.")})
        if self.alert_phone:
            number = to_e164(self.alert_phone, valid=True)
            if number is None:
                raise ValidationError(
                    {"alert_phone": _("Give a mobile number a text can reach, e.g. 07700 900123.")}
                )
            self.alert_phone = number

    @property
    def registration(self):
        """'NMC 12A3456B, independent prescriber', as shown on records."""
        parts = [f"{self.regulator} {self.registration_number}".strip()]
        if self.independent_prescriber:
            parts.append("independent prescriber")
        return ", ".join(part for part in parts if part)
