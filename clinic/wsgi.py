import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the URL map) lives as long as
# the process: move it out of the garbage collector's sight, so its periodic
# full collections only walk what requests create. Without this a busy page
# paused for a full collection every few dozen requests (about 40 ms on the
# day calendar, docs/BENCHMARKS.md). See the gc.freeze() documentation.
gc.collect()
gc.freeze()
