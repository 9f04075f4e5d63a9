"""The production settings module, with the two things tests need changed."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("HTTPS", "0")

from clinic.settings import *  # noqa: F403

# A fast hasher: the default one costs ~0.3 s per login, tens of seconds a run.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tests move the clock days ahead; sessions must outlive that.
SESSION_COOKIE_AGE = 60 * 24 * 3600
# Clinical photos of a test run go to a folder of its own, removed at the end.
PHOTO_ROOT = tempfile.mkdtemp(prefix="vermilion-photos-")
STORAGES["photos"]["OPTIONS"]["location"] = PHOTO_ROOT  # noqa: F405
atexit.register(shutil.rmtree, PHOTO_ROOT, ignore_errors=True)
