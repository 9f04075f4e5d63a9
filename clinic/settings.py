"""Vermilion's one settings module, driven by the environment.

Every variable is listed with its default in .env.example and the README's
configuration table. Bad values stop start-up with a message naming the
variable (see clinic/env.py).
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from clinic.env import (
    envargon2,
    envbool,
    envchoice,
    envdatabase,
    envint,
    envjson,
    envlist,
    envstr,
    envzone,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)

SECRET_KEY = envstr("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. It is required when DEBUG is off: set it to a "
            "long random string, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# The address people reach Vermilion at, used in links inside emails.
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "clinic",
    "clinic.accounts",
    "clinic.privacy",
    "treatments",
    "bookings",
    "clinic.admin_site.VermilionAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: a search-as-you-type request gets the results only.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinic.middleware.IdleTimeoutMiddleware",
    # A tablet handed to a patient opens only its signing page.
    "treatments.tablet.TabletModeMiddleware",
    # Second factor: which device verified this session, then ask where needed.
    "django_otp.middleware.OTPMiddleware",
    "clinic.accounts.middleware.TwoFactorMiddleware",
    "clinic.middleware.NoStoreMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

DATABASES = {
    "default": envdatabase("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    # django-axes counts failed logins and refuses locked-out ones first.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first (clinic/hashers.py: its cost and why); the others only read
# hashes made before, each rewritten as Argon2id at its owner's next login.
PASSWORD_HASHERS = [
    "clinic.hashers.ClinicArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
ARGON2_MEMORY_KIB, ARGON2_TIME_COST = envargon2()
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_HOURS", 24, minimum=1, maximum=24 * 14) * 3600

LANGUAGE_CODE = "en-gb"
# English only; translation machinery off, as Django advises when unused (it
# cost ~8 ms on a busy day calendar: docs/BENCHMARKS.md).
USE_I18N = False
USE_TZ = True
# The clinic's own zone: every "day" a rule counts and every time a person reads.
TIME_ZONE = envzone("CLINIC_TIME_ZONE", "Europe/London")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
# Clinical photographs (issue 19): a storage of their own, private. The files
# are never under STATIC_URL or MEDIA_URL; treatments.views.photos serves
# them after a permission check. The default is a folder on the local disk
# (PHOTO_ROOT, outside static/ and media); any Django storage works by
# configuration, e.g. S3-compatible object storage through django-storages:
# PHOTO_STORAGE_BACKEND=storages.backends.s3.S3Storage and PHOTO_STORAGE_OPTIONS
# as a JSON object (bucket_name, endpoint_url, default_acl "private"...).
PHOTO_ROOT = Path(envstr("PHOTO_ROOT", str(BASE_DIR / "private" / "photos"))).resolve()
for public in (*STATICFILES_DIRS, STATIC_ROOT):
    if PHOTO_ROOT.is_relative_to(Path(public).resolve()):
        raise ImproperlyConfigured(
            f"PHOTO_ROOT={PHOTO_ROOT} is inside {public}, which is served to anyone. "
            "Choose a folder outside the static files."
        )
PHOTO_STORAGE_BACKEND = envstr("PHOTO_STORAGE_BACKEND", "clinic.storage.PrivateFileSystemStorage")
STORAGES["photos"] = {
    "BACKEND": PHOTO_STORAGE_BACKEND,
    "OPTIONS": envjson(
        "PHOTO_STORAGE_OPTIONS",
        {
            "location": str(PHOTO_ROOT),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    ),
}
PHOTO_MAX_MB = envint("PHOTO_MAX_MB", 15, minimum=1, maximum=50)
# More pixels than any camera at the chair takes: a decompression bomb.
PHOTO_MAX_PIXELS = envint("PHOTO_MAX_MEGAPIXELS", 60, minimum=1, maximum=200) * 1_000_000
# Django keeps uploads over this in a temporary file rather than in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Tests run with DEBUG off but without collectstatic; let WhiteNoise find files.
WHITENOISE_USE_FINDERS = DEBUG or envbool("WHITENOISE_USE_FINDERS", False)

# Email: printed to the console unless EMAIL_HOST names an SMTP server.
# Django 6.1's MAILERS replaces the old EMAIL_* settings.
email_host = envstr("EMAIL_HOST", "")
if email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": email_host,
                "port": envint("EMAIL_PORT", 587, minimum=1, maximum=65535),
                "username": envstr("EMAIL_HOST_USER", ""),
                "password": envstr("EMAIL_HOST_PASSWORD", ""),
                "use_tls": envbool("EMAIL_USE_TLS", True),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Vermilion <clinic@vermilion.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# HTTPS-only cookies and headers. On by default in production; `make run`
# serves plain HTTP on 127.0.0.1 with DEBUG on, which turns them off.
HTTPS = envbool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and envbool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0 and envbool("SECURE_HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
BEHIND_PROXY = envbool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (Django 6's own middleware). No inline script or
# style anywhere: scripts and stylesheets come from this site only. Images may
# be data: URLs because Bootstrap draws its small icons (select arrows, close
# buttons) that way.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Sessions end after this long without a request: staff and patients.
STAFF_IDLE_MINUTES = envint("STAFF_IDLE_MINUTES", 30, minimum=5, maximum=24 * 60)
PATIENT_IDLE_MINUTES = envint("PATIENT_IDLE_MINUTES", 60, minimum=5, maximum=24 * 60)
SESSION_COOKIE_AGE = 12 * 3600

# Guessing limits beyond the login: wrong answers on one consent link before
# it is closed (and the managers told); wrong passwords when signing a record
# before the session ends; password-reset emails per address, and per
# client address, in an hour (more are quietly not sent).
CONSENT_LINK_GUESSES = envint("CONSENT_LINK_GUESSES", 5, minimum=1, maximum=20)
SIGN_PASSWORD_GUESSES = envint("SIGN_PASSWORD_GUESSES", 5, minimum=1, maximum=20)
PASSWORD_RESETS_PER_HOUR = envint("PASSWORD_RESETS_PER_HOUR", 3, minimum=1, maximum=50)

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one
# email from one address, that pair waits LOGIN_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=3, maximum=50)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "clinic.access.client_ip"
AXES_USERNAME_CALLABLE = "clinic.access.login_username"
AXES_VERBOSE = False

# Clinical records are kept this many years after the last treatment, then
# `manage.py apply_retention --apply` deletes them (README, patient data rights).
RETENTION_YEARS = envint("RETENTION_YEARS", 7, minimum=1, maximum=100)

# Two-factor login (django-otp): the name authenticator apps show.
OTP_TOTP_ISSUER = envstr("CLINIC_NAME", "Vermilion Lip Clinic")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

CLINIC_NAME = envstr("CLINIC_NAME", "Vermilion Lip Clinic")
CLINIC_PHONE = envstr("CLINIC_PHONE", "020 7946 0000")
# For a patient worried after a treatment, outside opening hours. Empty: the
# clinic's own number.
CLINIC_OUT_OF_HOURS_PHONE = envstr("CLINIC_OUT_OF_HOURS_PHONE", "") or CLINIC_PHONE
# Where a patient's red-flag report is sent beside the treating practitioner:
# the clinic's mailbox (empty: the address mail is sent from) and, if set, a
# mobile texted at any hour (E.164, e.g. +447700900123).
CLINIC_ALERT_EMAIL = envstr("CLINIC_ALERT_EMAIL", "") or (
    DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">").strip()
)
CLINIC_ALERT_PHONE = envstr("CLINIC_ALERT_PHONE", "")
if CLINIC_ALERT_PHONE and not (
    CLINIC_ALERT_PHONE.startswith("+") and CLINIC_ALERT_PHONE[1:].isdigit()
):
    raise ImproperlyConfigured(
        "CLINIC_ALERT_PHONE must be a mobile number in E.164, e.g. +447700900123 (or empty)."
    )

# Texts (SMS), beside emails, for patients who agreed to them (clinic/sms.py).
SMS_BACKENDS = {
    "console": "clinic.sms.ConsoleBackend",
    "file": "clinic.sms.FileBackend",
    "twilio": "clinic.sms.TwilioBackend",
}
SMS_BACKEND = SMS_BACKENDS[envchoice("SMS_BACKEND", "console", tuple(SMS_BACKENDS))]
SMS_FILE_PATH = envstr("SMS_FILE_PATH", str(BASE_DIR / "sent-sms"))
TWILIO_ACCOUNT_SID = envstr("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = envstr("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = envstr("TWILIO_FROM", "")
if SMS_BACKENDS["twilio"] == SMS_BACKEND and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM."
    )
# Numbers typed without a country code are read as this country's.
PHONE_REGION = envstr("PHONE_REGION", "GB")
# The country whose products the catalog is seeded with (GB: Vistabel,
# Azzalure and Bocouture beside the others). Read by migrations.
CATALOG_COUNTRY = envstr("CATALOG_COUNTRY", "GB")
# No text is sent between these local hours; one due then waits for the end.
SMS_QUIET_FROM = envint("SMS_QUIET_FROM", 21, minimum=0, maximum=23)
SMS_QUIET_UNTIL = envint("SMS_QUIET_UNTIL", 8, minimum=0, maximum=23)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envchoice("LOG_LEVEL", "INFO", LOG_LEVELS)},
    # django-axes logs every login and logout at INFO; failures are enough.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Clinic rules that a clinic may tune.
# A medical history older than this many months must be re-confirmed.
MEDICAL_HISTORY_MAX_AGE_MONTHS = envint("MEDICAL_HISTORY_MAX_AGE_MONTHS", 6, minimum=1, maximum=24)
# Appointments start on this grid of minutes past the hour.
BOOKING_GRID_MINUTES = int(envchoice("BOOKING_GRID_MINUTES", "5", ("5", "10", "15", "20", "30")))
# Hours a consent-signing link sent to a patient stays valid.
CONSENT_LINK_HOURS = envint("CONSENT_LINK_HOURS", 72, minimum=1, maximum=24 * 30)
# The online-booking defaults until a manager saves the admin's "Online
# booking settings" (clinic.models.online; read them through
# OnlineBookingSettings.current(), not here). How far ahead patients book:
ONLINE_BOOKING_DAYS_AHEAD = envint("ONLINE_BOOKING_DAYS_AHEAD", 90, minimum=7, maximum=365)
# Whether someone who is not yet a patient may book on the public booking page
# (/book/); off, the page still shows free times and asks them to call.
ONLINE_BOOKING_NEW_PATIENTS = envbool("ONLINE_BOOKING_NEW_PATIENTS", True)
# The least notice, in hours, for a time booked or moved online.
ONLINE_BOOKING_MIN_NOTICE_HOURS = envint(
    "ONLINE_BOOKING_MIN_NOTICE_HOURS", 24, minimum=0, maximum=14 * 24
)
# Minutes the emailed link of a new patient's online booking stays valid.
ONLINE_BOOKING_LINK_MINUTES = envint("ONLINE_BOOKING_LINK_MINUTES", 30, minimum=5, maximum=24 * 60)
# Online bookings started in an hour: per email, and (ten times as many) per
# client address, shared by a household or an office.
ONLINE_BOOKINGS_PER_HOUR = envint("ONLINE_BOOKINGS_PER_HOUR", 5, minimum=1, maximum=100)
# How long a time is kept while a patient finishes booking online (verifying
# their email, answering the history); then it is free again by itself.
BOOKING_HOLD_MINUTES = envint("BOOKING_HOLD_MINUTES", 20, minimum=5, maximum=120)
# The waitlist (bookings.waitlist): a freed time is offered to this many
# entries that fit it, in the order they joined, one email every
# WAITLIST_OFFER_GAP_MINUTES (0: all at once); the first to claim it books it.
# A claim link lasts WAITLIST_OFFER_HOURS from when it is written.
WAITLIST_OFFERS_PER_TIME = envint("WAITLIST_OFFERS_PER_TIME", 3, minimum=1, maximum=20)
WAITLIST_OFFER_GAP_MINUTES = envint("WAITLIST_OFFER_GAP_MINUTES", 30, minimum=0, maximum=24 * 60)
WAITLIST_OFFER_HOURS = envint("WAITLIST_OFFER_HOURS", 24, minimum=1, maximum=7 * 24)
# Patients may cancel or move online until this many hours before the visit.
CANCELLATION_NOTICE_HOURS = envint("CANCELLATION_NOTICE_HOURS", 48, minimum=0, maximum=24 * 14)
# Patients may report a problem (portal, aftercare-email link) for this many
# days after a treatment; the link expires then. Reports about one treatment
# in an hour, beyond which more are refused (the clinic has the others); bad
# report links from one client address in an hour, beyond which it waits.
PATIENT_REPORT_DAYS = envint("PATIENT_REPORT_DAYS", 28, minimum=1, maximum=365)
PATIENT_REPORTS_PER_HOUR = envint("PATIENT_REPORTS_PER_HOUR", 5, minimum=1, maximum=50)
REPORT_LINK_FAILURES_PER_HOUR = envint("REPORT_LINK_FAILURES_PER_HOUR", 20, minimum=1, maximum=1000)
# Lots expiring within this many days are flagged on the stock page and the dashboard.
STOCK_EXPIRY_WARNING_DAYS = envint("STOCK_EXPIRY_WARNING_DAYS", 60, minimum=1, maximum=366)
