"""The production settings module, with the two things tests need changed."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("HTTPS", "0")

from clinic.settings import *  # noqa: F403

# A fast hasher: the default one costs ~0.3 s per login, tens of seconds a run.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tests move the clock days ahead; sessions must outlive that.
SESSION_COOKIE_AGE = 60 * 24 * 3600
