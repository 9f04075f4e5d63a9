"""Django settings for the peer, django-appointment, as bench/peer.py runs it:
its own venv (.venv-peer), its own database, nothing of Vermilion's."""

import os

import dj_database_url

SECRET_KEY = "benchmarks-only-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "appointment",
]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/London"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
]
APPOINTMENT_WEBSITE_NAME = "Bench"
