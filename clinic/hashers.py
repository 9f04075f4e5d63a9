"""Password hashing: Argon2id at a cost the clinic sets.

Django's default (PBKDF2, 1.2 million SHA-256 rounds) spends about 0.7 s of one
core on each login on the machine in docs/BENCHMARKS.md; twenty staff logging
in at opening time then queue for seconds on two cores. OWASP's Password
Storage Cheat Sheet ranks Argon2id first and lists configurations of equal
strength that trade memory for passes; the default here is its
19 MiB / 2 passes / 1 lane line, about 25 ms a login. The cost is a setting
(ARGON2_MEMORY_KIB, ARGON2_TIME_COST), held at or above OWASP's minimums in
clinic/env.py. Hashes made with an older hasher or another cost are rewritten
the next time their owner logs in (Django's must_update), so no one is asked
to reset a password.
"""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class ClinicArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with the memory and passes from the settings, one lane.

    One lane because OWASP's configurations are for p=1, and a worker that
    takes both cores for one login only makes the next login wait.
    """

    algorithm = "argon2"  # the same stored prefix as Django's: hashes stay readable
    parallelism = 1

    @property
    def memory_cost(self):
        return settings.ARGON2_MEMORY_KIB

    @property
    def time_cost(self):
        return settings.ARGON2_TIME_COST
